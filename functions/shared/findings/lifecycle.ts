/**
 * The finding lifecycle as pure data: what a finding is, what a sweep observes, and the one
 * function that decides whether an observation changes a finding (and how).
 *
 *   (none) ──observe open──▶ WARNED ⇄ FLAGGED ⇄ EXEMPT ──observe closed──▶ RESOLVED | REVOKED
 *      ▲                                                                       │
 *      └────────────── observed open again: a new episode (episode + 1) ───────┘
 *
 * "Unchanged" is decided here: same status, reason, owner and facts (compared as canonical JSON)
 * means no write at all. Facts must therefore hold only what is stable between runs (a token's
 * `lastUsed`, never "days idle", which grows every day).
 */

export const OPEN_STATUSES = ['WARNED', 'FLAGGED', 'EXEMPT'] as const;
export const CLOSED_STATUSES = ['RESOLVED', 'REVOKED'] as const;
export type OpenStatus = (typeof OPEN_STATUSES)[number];
export type ClosedStatus = (typeof CLOSED_STATUSES)[number];
export type FindingStatus = OpenStatus | ClosedStatus;

export const isOpen = (status: FindingStatus): status is OpenStatus =>
  (OPEN_STATUSES as readonly string[]).includes(status);

/** Who a finding is about or answers for it; names and e-mail from the identity document (owners.ts). */
export interface FindingOwner {
  readonly id: string;
  /** As the source gave it (a token's owner name: usually the account name, e.g. dev.patel). */
  readonly name?: string;
  readonly displayName?: string;
  readonly email?: string;
}

/** Source-specific, JSON-serialisable facts about the subject (e.g. a token's name and lastUsed). */
export type Facts = Readonly<Record<string, unknown>>;

/** What to publish about a change; the store adds the key and the delivery bookkeeping. */
export interface NotificationContent {
  readonly kind: string;
  readonly subject: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * The notification of the finding's latest notifiable change, kept in the finding item itself so
 * that claiming, publishing and recording it are single-item conditional writes.
 */
export interface StoredNotification extends NotificationContent {
  /** `<source>/<subjectId>/v<version>`: the same on every retry, so subscribers can drop duplicates. */
  readonly key: string;
  readonly state: 'PENDING' | 'SENT';
  /** The run that may publish it; another run may take over after the claim lease expires. */
  readonly claimId: string;
  readonly claimedAt: string;
  readonly sentAt?: string;
}

export interface Finding {
  readonly source: string;
  readonly subjectId: string;
  readonly status: FindingStatus;
  /** Stable reason code or text (e.g. 'stale', 'never-used', an exemption's reason). */
  readonly reason: string;
  readonly owner?: FindingOwner;
  readonly facts: Facts;
  /** 1 for the first time the finding opened; +1 each time a closed finding opens again. */
  readonly episode: number;
  /** When the current episode opened. */
  readonly firstSeenAt: string;
  /** When the status last changed. */
  readonly statusSince: string;
  /**
   * When the finding last entered FLAGGED from another status (the revocation grace period counts
   * from here). Kept after it leaves FLAGGED; a return to FLAGGED (after EXEMPT or WARNED) restarts it.
   */
  readonly firstFlaggedAt?: string;
  /**
   * The last run that wrote an observation of this finding. Runs that see no change write
   * nothing, so this is "last seen *changed*"; an open finding is, by construction, still seen
   * by the latest successful run, which would otherwise have closed it.
   */
  readonly lastSeenAt: string;
  readonly closedAt?: string;
  /** Incremented by every write; all writes are conditional on it. */
  readonly version: number;
  readonly notification?: StoredNotification;
  /** Claimed actions (e.g. `revoke`) → when claimed; cleared by a status change or a new episode. */
  readonly actionClaims?: Readonly<Record<string, string>>;
}

/** What a sweep saw about one subject. A closed status closes an open finding (no-op otherwise). */
export interface Observation {
  readonly subjectId: string;
  readonly status: FindingStatus;
  readonly reason: string;
  readonly owner?: FindingOwner;
  /** Open: replaces the facts. Closed: merged over the existing facts (history is kept). */
  readonly facts?: Facts;
}

export type ChangeKind = 'opened' | 'reopened' | 'status-changed' | 'updated' | 'closed';

export interface FindingChange {
  readonly kind: ChangeKind;
  readonly before?: Finding;
  readonly after: Finding;
}

/**
 * The finding after `observation`, or undefined when nothing changed (and nothing must be written).
 * The returned finding has `version` incremented. It keeps `before.notification` unless the status
 * changed while that was still PENDING (closing, or moving to another open status, makes it moot);
 * the store decides whether a new notification replaces it. A status change also ends action claims.
 */
export function planTransition(
  source: string,
  before: Finding | undefined,
  observation: Observation,
  now: string,
): FindingChange | undefined {
  const facts = observation.facts ?? {};
  const wasOpen = before !== undefined && isOpen(before.status);

  if (!isOpen(observation.status)) {
    if (!wasOpen) return undefined; // nothing open to close
    const { notification, ...rest } = before;
    return {
      kind: 'closed',
      before,
      after: {
        ...rest,
        // A pending notification about an open finding is moot once it closes.
        ...(notification?.state === 'SENT' ? { notification } : {}),
        status: observation.status,
        reason: observation.reason,
        owner: observation.owner ?? before.owner,
        facts: { ...before.facts, ...facts },
        statusSince: now,
        closedAt: now,
        version: before.version + 1,
      },
    };
  }

  if (!wasOpen) {
    const episode = (before?.episode ?? 0) + 1;
    return {
      kind: before ? 'reopened' : 'opened',
      before,
      after: {
        source,
        subjectId: observation.subjectId,
        status: observation.status,
        reason: observation.reason,
        ...(observation.owner ? { owner: observation.owner } : {}),
        facts,
        episode,
        firstSeenAt: now,
        statusSince: now,
        ...(observation.status === 'FLAGGED' ? { firstFlaggedAt: now } : {}),
        lastSeenAt: now,
        version: (before?.version ?? 0) + 1,
        ...(before?.notification ? { notification: before.notification } : {}),
      },
    };
  }

  const statusChanged = before.status !== observation.status;
  const detailsChanged =
    before.reason !== observation.reason ||
    canonicalJson(before.owner ?? null) !== canonicalJson(observation.owner ?? null) ||
    canonicalJson(before.facts) !== canonicalJson(facts);
  if (!statusChanged && !detailsChanged) return undefined;

  const { owner: _owner, notification, actionClaims, ...rest } = before;
  return {
    kind: statusChanged ? 'status-changed' : 'updated',
    before,
    after: {
      ...rest,
      ...(observation.owner ? { owner: observation.owner } : {}),
      // A pending notification announces the old status: once that changes, it would mislead (a
      // notifiable new status brings its own). A sent one stays as history.
      ...(notification && !(statusChanged && notification.state === 'PENDING') ? { notification } : {}),
      // Claims are made for the status they act on (revoke a FLAGGED token): a status change ends them.
      ...(actionClaims && !statusChanged ? { actionClaims } : {}),
      status: observation.status,
      reason: observation.reason,
      facts,
      statusSince: statusChanged ? now : before.statusSince,
      // Entering FLAGGED (again) starts the grace clock: after an exemption or a warning, the owner is
      // told afresh and gets the whole grace period before anything acts on the flag.
      firstFlaggedAt: observation.status === 'FLAGGED' && statusChanged ? now : before.firstFlaggedAt,
      lastSeenAt: now,
      version: before.version + 1,
    },
  };
}

/** JSON with object keys sorted, so two equal values always compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
