/**
 * The person behind a finding: who owns the token (or answers for the credential), by name and
 * e-mail, so a notification reaches them and a report names them.
 *
 * Names come from SailPoint's identity documents (`displayName`, `email`), read in bulk through
 * Search (one call per 250 owners), at most once per run per owner (`OwnerLookups` caches the answers
 * for the run), and only for owners with a finding whose status changes in that run — the ones notified. Findings keep what was looked up, so an
 * unchanged tenant costs no lookup and no write; the next status change of any of an owner's
 * findings refreshes the names on all of them.
 *
 * A failed lookup never fails the run: the findings keep the details they had (or the id and the
 * token's owner name), the notification still carries the `ownerId` attribute, and `stats.failed`
 * says how many lookups did not answer.
 */
import {
  DEFAULT_SEARCH_PAGE_SIZE,
  searchIdentityContacts,
  type IdentityContact,
  type SailPointTransport,
} from '../sailpoint';
import { silentLog, type LogSink } from '../observability';
import { isOpen, type Finding, type FindingOwner, type Observation } from './lifecycle';

/** What the identity directory says about a person. */
export interface OwnerContact {
  readonly displayName?: string;
  readonly email?: string;
}

export interface OwnerDirectory {
  /**
   * Contacts of the given identities: `null` for an id with no identity. An id left out of the map
   * could not be read this time (the adapter logs why).
   */
  describe(ids: readonly string[]): Promise<ReadonlyMap<string, OwnerContact | null>>;
}

/**
 * The directory over SailPoint Search: the identity documents' `displayName` and `email`, up to 250
 * owners per POST /v3/search (searchIdentityContacts; needs `sp:search:read`). An owner Search does
 * not return (no such identity, or one too new to be indexed) is answered `null`. A failed call leaves
 * its owners unanswered (logged); the other calls still answer theirs.
 */
export function sailPointOwnerDirectory(
  client: SailPointTransport,
  log: LogSink = silentLog,
): OwnerDirectory {
  return {
    async describe(ids) {
      const answers = new Map<string, OwnerContact | null>();
      const unique = [...new Set(ids)];
      for (let start = 0; start < unique.length; start += DEFAULT_SEARCH_PAGE_SIZE) {
        const chunk = unique.slice(start, start + DEFAULT_SEARCH_PAGE_SIZE);
        let found: Map<string, IdentityContact>;
        try {
          found = await searchIdentityContacts(client, chunk);
        } catch (error) {
          log.warn('owner lookup failed', { identities: chunk.length, error: messageOf(error) });
          continue;
        }
        for (const id of chunk) {
          const doc = found.get(id);
          answers.set(
            id,
            doc
              ? {
                  ...(doc.displayName ? { displayName: doc.displayName } : {}),
                  ...(doc.email ? { email: doc.email } : {}),
                }
              : null,
          );
        }
      }
      return answers;
    },
  };
}

/** One run's owner lookups: each id asked at most once, whatever the answer. */
export class OwnerLookups {
  /** Identities asked; answered with a contact; unknown to the directory; not answered. */
  readonly stats = { asked: 0, found: 0, unknown: 0, failed: 0 };
  private readonly answers = new Map<string, OwnerContact | null | 'failed'>();

  constructor(private readonly directory: OwnerDirectory) {}

  /** Looks up the ids not asked yet in this run. */
  async prefetch(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.answers.has(id));
    if (missing.length === 0) return;
    this.stats.asked += missing.length;
    let answered: ReadonlyMap<string, OwnerContact | null>;
    try {
      answered = await this.directory.describe(missing);
    } catch {
      answered = new Map();
    }
    for (const id of missing) {
      const answer = answered.has(id) ? answered.get(id)! : 'failed';
      this.answers.set(id, answer);
      if (answer === 'failed') this.stats.failed++;
      else if (answer === null) this.stats.unknown++;
      else this.stats.found++;
    }
  }

  /** The answer for an id prefetched in this run; undefined when it was never asked. */
  answerFor(id: string): OwnerContact | null | 'failed' | undefined {
    return this.answers.get(id);
  }
}

/**
 * The observations with their owners named. Owners of findings that open or change status (the ones
 * notified, plus any `alsoNotified` names) are looked up, once per owner; what they answer names every observation of that owner in
 * the run (so a changed e-mail reaches all their findings). Every other observation carries the
 * details its finding already has, so naming owners never turns an unchanged finding into a write.
 */
export async function nameOwners(
  observations: readonly Observation[],
  existing: readonly Finding[],
  lookups: OwnerLookups,
  options: {
    /** Other observations the workflow notifies about without a status change (e.g. the sweep's arming). */
    readonly alsoNotified?: (observation: Observation, before: Finding | undefined) => boolean;
  } = {},
): Promise<Observation[]> {
  const before = new Map(existing.map((f) => [f.subjectId, f]));
  const notified = (o: Observation): boolean => {
    const finding = before.get(o.subjectId);
    if (isOpen(o.status) && (!finding || finding.status !== o.status)) return true;
    return options.alsoNotified?.(o, finding) ?? false;
  };
  await lookups.prefetch(observations.filter((o) => o.owner && notified(o)).map((o) => o.owner!.id));

  return observations.map((o) => {
    if (!o.owner) return o;
    const stored = before.get(o.subjectId)?.owner;
    const known = stored?.id === o.owner.id ? stored : undefined;
    const answer = lookups.answerFor(o.owner.id);
    // Not asked, or no answer: what the finding knew. null: the identity no longer exists.
    const contact = answer === undefined || answer === 'failed' ? known : (answer ?? undefined);
    return { ...o, owner: ownerWith(o.owner, contact) };
  });
}

function ownerWith(owner: FindingOwner, contact: OwnerContact | undefined): FindingOwner {
  return {
    id: owner.id,
    ...(owner.name ? { name: owner.name } : {}),
    ...(contact?.displayName ? { displayName: contact.displayName } : {}),
    ...(contact?.email ? { email: contact.email } : {}),
  };
}

/** How a notification subject or a report names the owner: display name, else name, else the id. */
export function ownerLabel(owner: FindingOwner | undefined): string {
  if (!owner) return 'no owner';
  return owner.displayName ?? owner.name ?? `identity ${owner.id}`;
}

/**
 * SNS message attributes that let a subscription filter route a notification to its owner
 * (`{"ownerEmail": ["dev.patel@example.com"]}`); only the ones known (SNS refuses empty values).
 */
export function ownerAttributes(owner: FindingOwner | undefined): Record<string, string> {
  if (!owner) return {};
  return { ownerId: owner.id, ...(owner.email ? { ownerEmail: owner.email } : {}) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
