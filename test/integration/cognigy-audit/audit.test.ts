/**
 * The Cognigy credential audit over the wire: sandbox Cognigy API + dynalite findings table.
 */
import {
  CognigyAuthError,
  CognigyRateLimitError,
  CognigyResponseError,
} from '../../../functions/shared/cognigy';
import { API_KEY_SOURCE, PRIVILEGE_SOURCE } from '../../../functions/cognigy-audit/findings';
import { CognigyPreflightError } from '../../../functions/cognigy-audit/least-privilege';
import { RightsManifestSchema } from '../../../functions/cognigy-audit/manifest';
import { COGNIGY_SANDBOX_KEYS, COGNIGY_SANDBOX_PROJECT_ID } from '../../../sandbox/cognigy/state';
import { startHarness, userOf, type Harness } from './harness';

const LP = COGNIGY_SANDBOX_KEYS.leastPrivilege;
const ACL = '/new/v2.0/users/me/acl';
const KEYS = '/new/v2.1/users/me/apikeys';

describe('Cognigy credential audit', () => {
  let h: Harness;
  let lpUser: string;
  beforeEach(async () => {
    h = await startHarness();
    lpUser = userOf(h, LP);
  });
  afterEach(() => h.stop());

  const open = async (source: string) =>
    (await h.store.list(source)).filter((f) => f.status !== 'RESOLVED' && f.status !== 'REVOKED');

  it('exact match with the manifest and one young key → no finding, no notification', async () => {
    const { summary, preflightError } = await h.run(LP);
    expect(preflightError).toBeUndefined();
    expect(summary.preflight).toEqual({
      passed: true,
      missing: [],
      traceId: expect.stringMatching(/^api--/),
    });
    expect(summary.privilege.overPrivileged).toEqual([]);
    expect(summary.apiKeys).toMatchObject({
      checked: true,
      total: 1,
      warned: 0,
      flagged: 0,
      multipleActive: false,
    });
    expect(summary.apiKeys.checked && summary.apiKeys.ownKey).toMatchObject({
      identified: true,
      method: 'key-preview',
    });
    expect(await h.store.list(PRIVILEGE_SOURCE)).toEqual([]);
    expect(await h.store.list(API_KEY_SOURCE)).toEqual([]);
    expect(h.notifier.published).toEqual([]);
    // Always v2.1 for keys; two requests per run.
    expect(h.sandbox.requestLog.count({ path: '/new/v2.0/users/me/apikeys' })).toBe(0);
    expect(h.sandbox.requestLog.count({ path: /^\/new\// })).toBe(2);
  });

  it('missing right → preflight fails naming the right and the traceId; the key sweep does not run', async () => {
    h.sandbox.state.cognigy.revoke(lpUser, { rights: ['apiKeys.read'] });
    const { summary, preflightError } = await h.run(LP);
    expect(preflightError).toBeInstanceOf(CognigyPreflightError);
    expect(preflightError!.message).toContain('organisation-wide right apiKeys.read');
    const aclTrace = summary.preflight.traceId!;
    expect(aclTrace).toMatch(/^api--/);
    expect(preflightError!.message).toContain(`traceId ${aclTrace}`);
    expect(preflightError!.traceId).toBe(aclTrace);
    expect(summary.apiKeys).toEqual({ checked: false, reason: 'preflight failed' });
    expect(h.sandbox.requestLog.count({ path: KEYS })).toBe(0);
    // Recorded and notified once, resolved once granted again.
    expect((await open(PRIVILEGE_SOURCE)).map((f) => f.subjectId)).toEqual(['missing:organisation']);
    await h.run(LP);
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['cognigy.missing-rights']);
    h.sandbox.state.cognigy.grant(lpUser, { rights: ['apiKeys.read'] });
    const fixed = await h.run(LP);
    expect(fixed.preflightError).toBeUndefined();
    expect(fixed.summary.privilege.findings.resolved).toBe(1);
    expect(await open(PRIVILEGE_SOURCE)).toEqual([]);
  });

  it('admin role → over-privileged finding, notified once across two runs, resolved when removed', async () => {
    h.sandbox.state.cognigy.grant(lpUser, { roles: ['admin'] });
    const first = await h.run(LP);
    expect(first.preflightError).toBeUndefined();
    expect(first.summary.privilege.overPrivileged).toEqual([
      { scope: 'organisation-wide', extraRights: [], extraRoles: ['admin'] },
    ]);
    expect(first.summary.privilege.findings.opened).toBe(1);

    const writesBefore = h.store.stats.writes;
    const readsBefore = h.store.stats.reads;
    const requestsBefore = h.sandbox.requestLog.count({ path: /^\/new\// });
    const second = await h.run(LP);
    expect(h.store.stats.reads - readsBefore).toBe(2); // one Query per source
    expect(h.sandbox.requestLog.count({ path: /^\/new\// }) - requestsBefore).toBe(2); // ACL + one key page
    expect(second.summary.privilege.findings).toMatchObject({ opened: 0, updated: 0, resolved: 0, open: 1 });
    expect(h.store.stats.writes).toBe(writesBefore); // an unchanged credential writes nothing
    expect(h.notifier.published).toHaveLength(1);
    expect(h.notifier.published[0]).toMatchObject({
      kind: 'cognigy.over-privileged',
      key: expect.stringContaining('cognigy-privilege/over-privileged:organisation/'),
      subject: expect.stringContaining('role admin'),
    });
    const [finding] = await open(PRIVILEGE_SOURCE);
    expect(finding).toMatchObject({
      status: 'FLAGGED',
      facts: { extraRoles: ['admin'] },
      notification: { state: 'SENT' },
    });

    h.sandbox.state.cognigy.revoke(lpUser, { roles: ['admin'] });
    const third = await h.run(LP);
    expect(third.summary.privilege.findings.resolved).toBe(1);
    const [resolved] = await h.store.list(PRIVILEGE_SOURCE);
    expect(resolved).toMatchObject({ status: 'RESOLVED', reason: 'no longer found' });
    expect(h.notifier.published).toHaveLength(1);
  });

  it('widening an open over-privilege notifies again; narrowing does not', async () => {
    h.sandbox.state.cognigy.grant(lpUser, { rights: ['users.delete'] });
    await h.run(LP);
    h.sandbox.state.cognigy.grant(lpUser, { rights: ['apiKeys.delete'] });
    await h.run(LP);
    h.sandbox.state.cognigy.revoke(lpUser, { rights: ['users.delete'] });
    await h.run(LP);
    expect(h.notifier.published.map((n) => n.detail.newlyGranted ?? null)).toEqual([
      null,
      ['apiKeys.delete'],
    ]);
    const [finding] = await open(PRIVILEGE_SOURCE);
    expect(finding?.facts.extraRights).toEqual(['apiKeys.delete']);
  });

  it('project-wide extra right → a finding for that project only', async () => {
    const manifest = RightsManifestSchema.parse({
      organisationWide: { rights: ['apiKeys.read'], roles: ['apiKeys'] },
      projectWide: { [COGNIGY_SANDBOX_PROJECT_ID]: { rights: ['flows.read'], roles: ['basic'] } },
    });
    h.sandbox.state.cognigy.grant(lpUser, {
      projectId: COGNIGY_SANDBOX_PROJECT_ID,
      rights: ['flows.read'],
      roles: ['basic'],
    });
    expect((await h.run(LP, { manifest })).summary.privilege.overPrivileged).toEqual([]);

    h.sandbox.state.cognigy.grant(lpUser, {
      projectId: COGNIGY_SANDBOX_PROJECT_ID,
      rights: ['flows.delete'],
    });
    const { summary } = await h.run(LP, { manifest });
    expect(summary.privilege.overPrivileged).toEqual([
      { scope: `project ${COGNIGY_SANDBOX_PROJECT_ID}`, extraRights: ['flows.delete'], extraRoles: [] },
    ]);
    expect((await open(PRIVILEGE_SOURCE)).map((f) => f.subjectId)).toEqual([
      `over-privileged:project:${COGNIGY_SANDBOX_PROJECT_ID}`,
    ]);
    expect(h.notifier.published[0]?.subject).toContain(`project ${COGNIGY_SANDBOX_PROJECT_ID}`);
  });

  it('an unknown new right or role in the response is tolerated and reported as extra', async () => {
    h.sandbox.state.cognigy.grant(lpUser, {
      rights: ['aiAgents.read', 'apiKeys.rotate'],
      roles: ['agentOps2027'],
    });
    const { summary, preflightError } = await h.run(LP);
    expect(preflightError).toBeUndefined();
    expect(summary.privilege.overPrivileged).toEqual([
      {
        scope: 'organisation-wide',
        extraRights: ['aiAgents.read', 'apiKeys.rotate'],
        extraRoles: ['agentOps2027'],
      },
    ]);
    expect(summary.apiKeys.checked).toBe(true);
  });

  it('old keys warn at 75 days and flag at 90; the own key is to rotate, never "unused"', async () => {
    // The least-privilege key is 20 days old at START.
    h.clock.advanceDays(54);
    expect((await h.run(LP)).summary.apiKeys).toMatchObject({ warned: 0, flagged: 0 });
    h.clock.advanceDays(1); // 75 days
    const warned = await h.run(LP);
    expect(warned.summary.apiKeys).toMatchObject({ warned: 1, flagged: 0 });
    const [warning] = await open(API_KEY_SOURCE);
    expect(warning).toMatchObject({ status: 'WARNED', facts: { ownKey: true } });
    expect(warning?.reason).toContain('rotate');
    h.clock.advanceDays(10); // 85: still a warning, nothing written, nothing notified
    expect((await h.run(LP)).summary.apiKeys).toMatchObject({
      findings: { opened: 0, escalated: 0, updated: 0 },
    });
    h.clock.advanceDays(5); // 90
    const flagged = await h.run(LP);
    expect(flagged.summary.apiKeys).toMatchObject({ warned: 0, flagged: 1, findings: { escalated: 1 } });
    expect(h.notifier.published.map((n) => n.subject)).toEqual([
      expect.stringContaining('75 days old (warning)'),
      expect.stringContaining('90 days old (flagged)'),
    ]);
    expect(JSON.stringify(h.notifier.published)).not.toMatch(/unused/i);
  });

  it('more than one active key → flagged, the other key proposed, the own key never', async () => {
    const admin = await h.run(COGNIGY_SANDBOX_KEYS.admin);
    expect(admin.summary.apiKeys).toMatchObject({ total: 2, warned: 1, flagged: 1, multipleActive: true });
    const adminUser = userOf(h, COGNIGY_SANDBOX_KEYS.admin);
    const own = h.sandbox.state.cognigy.findByKey(COGNIGY_SANDBOX_KEYS.admin)!.apiKey;
    const spare = h.sandbox.state.cognigy.findByKey(COGNIGY_SANDBOX_KEYS.adminSpare)!.apiKey;
    const multiple = (await open(API_KEY_SOURCE)).find((f) => f.subjectId === 'multiple-active-keys');
    expect(multiple?.facts).toMatchObject({ ownKeyId: own.id, notUsedByAutomation: [spare.id] });
    const notice = h.notifier.published.find((n) => n.kind === 'cognigy.multiple-active-keys');
    expect(notice?.detail).toMatchObject({ ownKeyId: own.id, notUsedByAutomation: [spare.id] });
    // Nothing the audit stores or sends holds a key.
    const everything = JSON.stringify([await h.store.list(API_KEY_SOURCE), h.notifier.published]);
    for (const secret of Object.values(COGNIGY_SANDBOX_KEYS)) expect(everything).not.toContain(secret);

    // The spare key revoked: multiple-keys and its age warning resolve; the own key's flag stays.
    h.sandbox.state.cognigy.removeApiKey(adminUser, spare.id);
    const after = await h.run(COGNIGY_SANDBOX_KEYS.admin);
    expect(after.summary.apiKeys).toMatchObject({
      multipleActive: false,
      findings: { resolved: 2, open: 1 },
    });
    expect((await open(API_KEY_SOURCE)).map((f) => f.subjectId)).toEqual([`key:${own.id}`]);
  });

  it('without a preview, names no key unused unless COGNIGY_API_KEY_ID says which is ours', async () => {
    // A user whose keys have no matching preview: two keys, the automation's id given explicitly.
    const user = h.sandbox.state.cognigy.addUser({
      id: 'u3',
      organisationWide: { rights: ['apiKeys.read'], roles: ['apiKeys'] },
      apiKeys: [
        { name: 'a', key: 'aaaa-first-key-aaaa', id: 'key-a' },
        { name: 'b', key: 'aaaa-second-key-aaaa', id: 'key-b' }, // same preview as key-a: ambiguous
      ],
    });
    const unknown = await h.run('aaaa-first-key-aaaa');
    expect(unknown.summary.apiKeys.checked && unknown.summary.apiKeys.ownKey.identified).toBe(false);
    let multiple = (await open(API_KEY_SOURCE)).find((f) => f.subjectId === 'multiple-active-keys');
    expect(multiple?.facts).toMatchObject({ ownKeyId: null, notUsedByAutomation: [] });

    await h.run('aaaa-first-key-aaaa', { apiKeyId: 'key-a' });
    multiple = (await open(API_KEY_SOURCE)).find((f) => f.subjectId === 'multiple-active-keys');
    expect(multiple?.facts).toMatchObject({ ownKeyId: 'key-a', notUsedByAutomation: ['key-b'] });
    expect(user.apiKeys).toHaveLength(2);
  });

  it('a wrong key → CognigyAuthError with the traceId; nothing recorded or resolved', async () => {
    h.sandbox.state.cognigy.grant(lpUser, { roles: ['admin'] });
    await h.run(LP); // one open finding
    const error = await h.run('not-a-valid-key').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognigyAuthError);
    expect((error as CognigyAuthError).traceId).toMatch(/^api--/);
    expect((error as Error).message).toContain(`traceId ${(error as CognigyAuthError).traceId}`);
    expect((error as Error).message).not.toContain('not-a-valid-key');
    expect(await open(PRIVILEGE_SOURCE)).toHaveLength(1);
    expect(h.sandbox.requestLog.count({ path: ACL, status: 401 })).toBe(1);
  });

  it('a 200 ACL body with neither ACL field → CognigyResponseError with traceId; nothing resolved', async () => {
    h.sandbox.state.cognigy.grant(lpUser, { roles: ['admin'] });
    await h.run(LP);
    expect((await open(PRIVILEGE_SOURCE)).map((f) => f.subjectId)).toEqual(['over-privileged:organisation']);

    h.sandbox.faults.inject({ path: ACL, status: 200, body: {} });
    const error = await h.run(LP).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognigyResponseError);
    expect((error as CognigyResponseError).traceId).toMatch(/^api--/);
    expect((await open(PRIVILEGE_SOURCE)).map((f) => f.subjectId)).toEqual(['over-privileged:organisation']);
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['cognigy.over-privileged']);
  });

  it('429 → waits Retry-After and completes the run', async () => {
    h.sandbox.faults.inject({ path: ACL, status: 429, retryAfterSeconds: 3 });
    h.sandbox.faults.inject({ path: KEYS, status: 503 });
    const { summary } = await h.run(LP);
    expect(summary.apiKeys.checked).toBe(true);
    expect(h.sleeps[0]).toBe(3000);
    expect(h.sandbox.requestLog.count({ path: ACL })).toBe(2);
    expect(h.sandbox.requestLog.count({ path: KEYS })).toBe(2);
  });

  it('429 beyond the bound → CognigyRateLimitError with traceId and Retry-After; nothing recorded', async () => {
    h.sandbox.faults.inject({ path: ACL, status: 429, retryAfterSeconds: 600 });
    const error = await h.run(LP).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognigyRateLimitError);
    expect(error).toMatchObject({ retryAfterSeconds: 600, traceId: expect.stringMatching(/^api--/) });
    expect(h.sandbox.requestLog.count({ path: ACL })).toBe(1);
    expect(await h.store.list(PRIVILEGE_SOURCE)).toEqual([]);
  });

  it('the sandbox rate limit (1,000 per 5 min by default) is enforced per user with Retry-After', async () => {
    h.sandbox.state.cognigy.rateLimit = { limit: 1, windowMs: 300_000 };
    const error = await h.run(LP).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognigyRateLimitError);
    expect((error as CognigyRateLimitError).retryAfterSeconds).toBeGreaterThan(60);
  });

  it('two concurrent runs over the same findings notify each new finding once', async () => {
    h.sandbox.state.cognigy.grant(lpUser, { roles: ['admin'] });
    const [a, b] = await Promise.all([h.run(LP), h.run(LP)]);
    expect(a.summary.failures).toEqual([]);
    expect(b.summary.failures).toEqual([]);
    expect(h.notifier.published.filter((n) => n.kind === 'cognigy.over-privileged')).toHaveLength(1);
    expect(await open(PRIVILEGE_SOURCE)).toHaveLength(1);
  });

  it('a crash after recording but before notifying: the next run (after the claim lease) notifies once', async () => {
    h.sandbox.state.cognigy.grant(lpUser, { roles: ['admin'] });
    const failing = { publish: async () => Promise.reject(new Error('SNS down')) };
    const original = h.notifier.publish.bind(h.notifier);
    h.notifier.publish = failing.publish;
    const crashed = await h.run(LP);
    expect(crashed.summary.failures[0]).toContain('SNS down');
    h.notifier.publish = original;
    await h.run(LP); // within the lease: left to the first run
    expect(h.notifier.published).toHaveLength(0);
    h.clock.advanceDays(1); // lease over
    await h.run(LP);
    await h.run(LP);
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['cognigy.over-privileged']);
  });
});
