/**
 * COGNIGY_CREDENTIAL_OWNER over the wire: the admin user's findings (sandbox Cognigy API, dynalite)
 * name the person who answers for the credential, in the finding, the subject and the SNS attributes.
 */
import { API_KEY_SOURCE, PRIVILEGE_SOURCE } from '../../../functions/cognigy-audit/findings';
import { RightsManifestSchema, DEFAULT_RIGHTS_MANIFEST } from '../../../functions/cognigy-audit/manifest';
import { DEFAULT_API_KEY_POLICY } from '../../../functions/cognigy-audit/api-key-policy';
import { runCognigyAudit } from '../../../functions/cognigy-audit/audit';
import { parseCognigyAuditSettings } from '../../../functions/cognigy-audit/settings';
import { messageAttributesOf } from '../../../functions/shared/notifier';
import { silentLog } from '../../../functions/shared/observability';
import { COGNIGY_SANDBOX_KEYS } from '../../../sandbox/cognigy/state';
import { startHarness, type Harness } from './harness';

const ADMIN = COGNIGY_SANDBOX_KEYS.admin;

let h: Harness;
beforeEach(async () => (h = await startHarness()));
afterEach(() => h.stop());

it('every Cognigy finding names the configured owner; notices carry ownerId/ownerEmail and the name', async () => {
  const settings = parseCognigyAuditSettings({
    COGNIGY_API_URL: `${h.sandbox.url}/new`,
    FINDINGS_TABLE: 'findings',
    COGNIGY_CREDENTIAL_OWNER: JSON.stringify({
      id: '2c9180aa000000000000000000000014',
      displayName: 'Nina Ivanova',
      email: 'nina.ivanova@example.com',
    }),
  });
  const owner = settings.COGNIGY_CREDENTIAL_OWNER!;
  const run = () =>
    runCognigyAudit({
      cognigy: h.client(ADMIN),
      apiKey: ADMIN,
      manifest: RightsManifestSchema.parse(DEFAULT_RIGHTS_MANIFEST),
      keyPolicy: DEFAULT_API_KEY_POLICY,
      findings: h.store,
      notifier: h.notifier,
      now: h.clock.now,
      log: silentLog,
      owner,
    });
  await run();

  const findings = [...(await h.store.list(PRIVILEGE_SOURCE)), ...(await h.store.list(API_KEY_SOURCE))];
  expect(findings.length).toBeGreaterThanOrEqual(3);
  for (const f of findings) expect(f.owner).toEqual(owner);
  expect(h.notifier.published.length).toBe(findings.length);
  for (const n of h.notifier.published) {
    expect(n.subject).toContain('of Nina Ivanova');
    expect(messageAttributesOf(n)).toMatchObject({
      ownerId: { DataType: 'String', StringValue: owner.id },
      ownerEmail: { DataType: 'String', StringValue: 'nina.ivanova@example.com' },
      kind: { StringValue: n.kind },
    });
  }
  // The owner is part of the finding: an unchanged credential still writes and notifies nothing.
  const before = h.notifier.published.length;
  const again = await run();
  expect(again.summary.notifications.sent).toBe(0);
  expect(h.notifier.published.length).toBe(before);
});
