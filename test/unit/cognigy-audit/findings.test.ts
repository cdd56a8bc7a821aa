import {
  planTransition,
  type Finding,
  type FindingChange,
  type Observation,
} from '../../../functions/shared/findings';
import {
  apiKeyObservations,
  MULTIPLE_KEYS_SUBJECT,
  notificationFor,
  NOTIFICATION_KINDS,
} from '../../../functions/cognigy-audit/findings';
import { reviewApiKeys, DEFAULT_API_KEY_POLICY } from '../../../functions/cognigy-audit/api-key-policy';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const T = new Date(NOW).toISOString();

/** The change the shared lifecycle would plan for `observation` over `before`. */
function change(before: Finding | undefined, observation: Observation): FindingChange {
  const planned = planTransition('src', before, observation, T);
  if (!planned) throw new Error('no change planned');
  return planned;
}

const over = (extraRights: string[], extraRoles: string[]): Observation => ({
  subjectId: 'over-privileged:organisation',
  status: 'FLAGGED',
  reason: 'over-privileged credential',
  facts: { scope: 'organisation-wide', extraRights, extraRoles, undeclaredProject: false },
});

describe('notificationFor', () => {
  it('notifies a new over-privilege finding, naming the role and rights', () => {
    const n = notificationFor(change(undefined, over(['users.delete'], ['admin'])), NOW);
    expect(n?.kind).toBe(NOTIFICATION_KINDS.overPrivileged);
    expect(n?.subject).toContain('role admin');
    expect(n?.subject).toContain('users.delete');
  });

  it('notifies again when the privileges widen, not when they narrow', () => {
    const first = change(undefined, over(['users.delete'], [])).after;
    const widened = change(first, over(['users.delete'], ['admin']));
    expect(notificationFor(widened, NOW)?.detail).toMatchObject({ newlyGranted: ['admin'] });
    const narrowed = change(widened.after, over([], ['admin']));
    expect(notificationFor(narrowed, NOW)).toBeUndefined();
  });

  it('does not notify a resolution', () => {
    const first = change(undefined, over(['users.delete'], [])).after;
    const closed = change(first, {
      subjectId: first.subjectId,
      status: 'RESOLVED',
      reason: 'no longer found',
    });
    expect(notificationFor(closed, NOW)).toBeUndefined();
  });

  it('notifies a key warning, then its escalation to flagged, then nothing while it stays flagged', () => {
    const createdAt = Math.floor(NOW / 1000) - 80 * 86_400;
    const keyObservation = (status: 'WARNED' | 'FLAGGED'): Observation => ({
      subjectId: 'key:k1',
      status,
      reason: 'old',
      facts: { keyId: 'k1', name: 'ci', createdAt, ownKey: false },
    });
    const warned = change(undefined, keyObservation('WARNED'));
    expect(notificationFor(warned, NOW)?.subject).toContain('80 days old (warning)');
    const flagged = change(warned.after, keyObservation('FLAGGED'));
    expect(notificationFor(flagged, NOW)?.subject).toContain('(flagged)');
    expect(planTransition('src', flagged.after, keyObservation('FLAGGED'), T)).toBeUndefined();
  });

  it('notifies multiple active keys once, and again only when a new key appears', () => {
    const keys = (ids: string[]) =>
      ids.map((id) => ({ id, name: id, createdAt: Math.floor(NOW / 1000) - 86_400 }));
    const own = { identified: true, keyId: 'own', method: 'configured-id' } as const;
    const observe = (ids: string[]) =>
      apiKeyObservations(
        reviewApiKeys(keys(ids), own, DEFAULT_API_KEY_POLICY, NOW),
        DEFAULT_API_KEY_POLICY,
      ).find((o) => o.subjectId === MULTIPLE_KEYS_SUBJECT)!;
    const opened = change(undefined, observe(['own', 'spare']));
    const n = notificationFor(opened, NOW);
    expect(n?.kind).toBe(NOTIFICATION_KINDS.multipleKeys);
    expect(n?.detail).toMatchObject({ ownKeyId: 'own', notUsedByAutomation: ['spare'] });
    const third = change(opened.after, observe(['own', 'spare', 'third']));
    expect(notificationFor(third, NOW)?.detail).toMatchObject({ newKeys: ['third'] });
    const fewer = change(third.after, observe(['own', 'third']));
    expect(notificationFor(fewer, NOW)).toBeUndefined();
  });

  it('keeps facts stable from day to day (no ages), so an unchanged key writes nothing', () => {
    const keys = [{ id: 'k', createdAt: Math.floor(NOW / 1000) - 95 * 86_400 }];
    const own = { identified: true, keyId: 'k', method: 'configured-id' } as const;
    const today = apiKeyObservations(
      reviewApiKeys(keys, own, DEFAULT_API_KEY_POLICY, NOW),
      DEFAULT_API_KEY_POLICY,
    );
    const tomorrow = apiKeyObservations(
      reviewApiKeys(keys, own, DEFAULT_API_KEY_POLICY, NOW + 86_400_000),
      DEFAULT_API_KEY_POLICY,
    );
    expect(tomorrow).toEqual(today);
  });
});
