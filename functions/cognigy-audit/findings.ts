/**
 * How the audit's verdicts become findings (functions/shared/findings), and which changes are
 * notified. Pure: verdicts in, observations and notification contents out.
 *
 * Two sources, reconciled separately so that a run that checked privileges but could not list keys
 * resolves nothing about keys:
 *
 *   cognigy-privilege   over-privileged:<scope>   FLAGGED  extra rights/roles of one scope
 *                       missing:<scope>           FLAGGED  needed rights/roles the credential lacks
 *   cognigy-api-key     key:<keyId>               WARNED (≥ warn days) / FLAGGED (≥ flag days)
 *                       multiple-active-keys      FLAGGED  more than the allowed number of keys
 *
 * Facts hold only what is stable between runs (rights, roles, key ids, createdAt — never an age in
 * days), so an unchanged credential writes nothing. A finding no longer observed is RESOLVED.
 *
 * Notified once per finding: when it opens (or reopens), when a key's warning becomes a flag, and
 * when an open finding gets worse (a new extra right/role, a new missing right, a new key) —
 * widening is news; narrowing and resolution are in the run summary only.
 */
import {
  FINDING_SOURCES,
  ownerLabel,
  type FindingChange,
  type NotificationContent,
  type Observation,
} from '../shared/findings';
import { ageInDays, type ApiKeyReview } from './api-key-policy';
import { scopeId, scopeLabel, type PrivilegeReport } from './least-privilege';

export const PRIVILEGE_SOURCE = FINDING_SOURCES.cognigyPrivilege;
export const API_KEY_SOURCE = FINDING_SOURCES.cognigyApiKey;

export const NOTIFICATION_KINDS = {
  overPrivileged: 'cognigy.over-privileged',
  missingRights: 'cognigy.missing-rights',
  keyAge: 'cognigy.api-key-age',
  multipleKeys: 'cognigy.multiple-active-keys',
} as const;

export const MULTIPLE_KEYS_SUBJECT = 'multiple-active-keys';

export function privilegeObservations(report: PrivilegeReport): Observation[] {
  const overPrivileged = report.overPrivileged.map((v): Observation => ({
    subjectId: `over-privileged:${scopeId(v.scope)}`,
    status: 'FLAGGED',
    reason: 'over-privileged credential',
    facts: {
      scope: scopeLabel(v.scope),
      ...(v.scope.kind === 'project' ? { projectId: v.scope.projectId } : {}),
      extraRights: [...v.extraRights],
      extraRoles: [...v.extraRoles],
      undeclaredProject: v.undeclaredProject,
    },
  }));
  const missing = report.missing.map((v): Observation => ({
    subjectId: `missing:${scopeId(v.scope)}`,
    status: 'FLAGGED',
    reason: 'missing rights: preflight fails',
    facts: {
      scope: scopeLabel(v.scope),
      ...(v.scope.kind === 'project' ? { projectId: v.scope.projectId } : {}),
      missingRights: [...v.missingRights],
      missingRoles: [...v.missingRoles],
    },
  }));
  return [...overPrivileged, ...missing];
}

export function apiKeyObservations(
  review: ApiKeyReview,
  policy: { warnAfterDays: number; flagAfterDays: number },
): Observation[] {
  const ages = review.ages.map((a): Observation => ({
    subjectId: `key:${a.key.id}`,
    status: a.level === 'flagged' ? 'FLAGGED' : 'WARNED',
    reason: a.ownKey
      ? `the automation's own key is older than ${a.level === 'flagged' ? policy.flagAfterDays : policy.warnAfterDays} days: rotate it`
      : `key older than ${a.level === 'flagged' ? policy.flagAfterDays : policy.warnAfterDays} days`,
    facts: { keyId: a.key.id, name: a.key.name ?? null, createdAt: a.key.createdAt, ownKey: a.ownKey },
  }));
  const multiple = review.multipleActive;
  if (!multiple) return ages;
  const own = review.ownKey;
  return [
    ...ages,
    {
      subjectId: MULTIPLE_KEYS_SUBJECT,
      status: 'FLAGGED',
      reason: `${multiple.keys.length} active API keys on the automation's Cognigy user`,
      facts: {
        keys: multiple.keys
          .map(({ key, ownKey }) => ({
            keyId: key.id,
            name: key.name ?? null,
            createdAt: key.createdAt,
            ownKey,
          }))
          .sort((a, b) => a.keyId.localeCompare(b.keyId)),
        ownKeyId: own.identified ? own.keyId : null,
        ownKeyUnknownReason: own.identified ? null : own.reason,
        notUsedByAutomation: [...multiple.notUsedByAutomation].sort(),
      },
    },
  ];
}

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** Items of `key` in the after facts that the before facts did not have. */
function added(change: FindingChange, key: string, pick: (v: unknown) => string[] = stringList): string[] {
  const before = new Set(change.before ? pick(change.before.facts[key]) : []);
  return pick(change.after.facts[key]).filter((v) => !before.has(v));
}

const keyIdsOf = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.map((k) => (k as { keyId?: unknown }).keyId).filter((id): id is string => typeof id === 'string')
    : [];

/** The notification a change calls for (see the file header), rendered for an operator. */
export function notificationFor(change: FindingChange, nowMs: number): NotificationContent | undefined {
  const { after } = change;
  if (change.kind === 'closed') return undefined;
  const isNew = change.kind === 'opened' || change.kind === 'reopened';
  const facts = after.facts;
  const subjectId = after.subjectId;
  const whose = after.owner ? ` of ${ownerLabel(after.owner)}` : ''; // COGNIGY_CREDENTIAL_OWNER

  if (subjectId.startsWith('over-privileged:')) {
    const widened = [...added(change, 'extraRights'), ...added(change, 'extraRoles')];
    if (!isNew && widened.length === 0) return undefined;
    const roles = stringList(facts.extraRoles);
    const rights = stringList(facts.extraRights);
    return {
      kind: NOTIFICATION_KINDS.overPrivileged,
      subject: `Over-privileged Cognigy credential${whose} (${String(facts.scope)}): ${describeExtras(roles, rights)}`,
      detail: { ...facts, ...(isNew ? {} : { newlyGranted: widened }) },
    };
  }
  if (subjectId.startsWith('missing:')) {
    const widened = [...added(change, 'missingRights'), ...added(change, 'missingRoles')];
    if (!isNew && widened.length === 0) return undefined;
    const missing = [
      ...stringList(facts.missingRoles).map((r) => `role ${r}`),
      ...stringList(facts.missingRights),
    ];
    return {
      kind: NOTIFICATION_KINDS.missingRights,
      subject: `Cognigy credential${whose} lacks ${missing.join(', ')} (${String(facts.scope)}): Cognigy work stopped`,
      detail: { ...facts },
    };
  }
  if (subjectId.startsWith('key:')) {
    const escalated = change.kind === 'status-changed' && after.status === 'FLAGGED';
    if (!isNew && !escalated) return undefined;
    const ageDays = ageInDays(Number(facts.createdAt), nowMs);
    return {
      kind: NOTIFICATION_KINDS.keyAge,
      subject: `Cognigy API key "${String(facts.name ?? facts.keyId)}"${whose} is ${ageDays} days old (${after.status === 'FLAGGED' ? 'flagged' : 'warning'})`,
      detail: { ...facts, ageDays, status: after.status, reason: after.reason },
    };
  }
  if (subjectId === MULTIPLE_KEYS_SUBJECT) {
    const newKeys = added(change, 'keys', keyIdsOf);
    if (!isNew && newKeys.length === 0) return undefined;
    return {
      kind: NOTIFICATION_KINDS.multipleKeys,
      subject: `Cognigy user${whose} has ${keyIdsOf(facts.keys).length} active API keys`,
      detail: { ...facts, ...(isNew ? {} : { newKeys }) },
    };
  }
  return undefined;
}

function describeExtras(roles: string[], rights: string[]): string {
  const parts: string[] = [];
  if (roles.length > 0) parts.push(`role${roles.length > 1 ? 's' : ''} ${roles.join(', ')}`);
  if (rights.length > 0) {
    const shown = rights.slice(0, 5).join(', ');
    parts.push(
      `right${rights.length > 1 ? 's' : ''} ${shown}${rights.length > 5 ? ` and ${rights.length - 5} more` : ''}`,
    );
  }
  return parts.join('; ');
}
