/**
 * `npm start -- cognigy`: the Cognigy.AI credential audit against the sandbox's Cognigy users, with
 * the settings the Lambda function reads and findings in the local DynamoDB table.
 *
 *   1. the least-privilege user: matches the default manifest exactly, one young key → no findings
 *   2. the same user without `apiKeys.read`: the preflight fails, naming the right and the traceId
 *   3. the admin user: over-privileged (admin role, extra rights, a project), an old own key, an
 *      older spare key, two active keys → findings, each notified once
 *   4. the admin user again: nothing new, nothing notified
 *   5. the spare key revoked: its findings resolve
 */
import { createDocumentClient } from '../../functions/shared/aws';
import { createCognigyClient } from '../../functions/shared/cognigy';
import { FindingsStore, isOpen, type Finding } from '../../functions/shared/findings';
import { RecordingNotifier } from '../../functions/shared/notifier';
import { silentLog } from '../../functions/shared/observability';
import { runCognigyAudit, type CognigyAuditSummary } from '../../functions/cognigy-audit/audit';
import { API_KEY_SOURCE, PRIVILEGE_SOURCE } from '../../functions/cognigy-audit/findings';
import { keyPolicyOf, parseCognigyAuditSettings } from '../../functions/cognigy-audit/settings';
import { ageInDays } from '../../functions/cognigy-audit/api-key-policy';
import { COGNIGY_SANDBOX_KEYS } from '../../sandbox/cognigy/state';
import type { LocalDemo } from '../environment';

export const cognigyAuditDemo: LocalDemo = async (local) => {
  const { print } = local;
  const cognigyState = local.sandbox.state.cognigy;
  const findings = new FindingsStore({ doc: createDocumentClient(), tableName: local.tables.findings });
  const notifier = new RecordingNotifier((line) => print(`    ${line.trim()}`));

  /** One on-demand run, as the handler does it (settings from the environment, key per user). */
  const auditAs = async (apiKey: string): Promise<CognigyAuditSummary | Error> => {
    const settings = parseCognigyAuditSettings({ ...local.env, COGNIGY_API_KEY: apiKey });
    const cognigy = createCognigyClient(settings, { apiKey });
    try {
      const { summary, preflightError } = await runCognigyAudit(
        {
          cognigy,
          apiKey,
          manifest: settings.COGNIGY_RIGHTS_MANIFEST,
          keyPolicy: keyPolicyOf(settings),
          findings,
          notifier,
          now: () => new Date(),
          log: silentLog, // findings, notifications and this summary are the demo's output
        },
        'on-demand',
      );
      if (preflightError) print(`    ${preflightError.message}`);
      return summary;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };

  const report = async (title: string, apiKey: string) => {
    print(`  ▸ ${title}`);
    const before = notifier.published.length;
    const result = await auditAs(apiKey);
    if (result instanceof Error) {
      print(`    run failed: ${result.message}`);
    } else {
      const keys = result.apiKeys;
      print(
        `    preflight ${result.preflight.passed ? 'passed' : 'FAILED'} (traceId ${result.preflight.traceId ?? 'none'}); ` +
          (keys.checked
            ? `${keys.total} API key(s), own key ${keys.ownKey.identified ? `identified by ${keys.ownKey.method}` : 'not identified'}`
            : `key sweep skipped: ${keys.reason}`),
      );
    }
    await printOpenFindings();
    const counts =
      result instanceof Error
        ? undefined
        : [result.privilege.findings, ...(result.apiKeys.checked ? [result.apiKeys.findings] : [])];
    const sum = (key: 'opened' | 'resolved') => counts?.reduce((n, c) => n + c[key], 0) ?? 0;
    print(
      `    this run: ${sum('opened')} finding(s) opened, ${sum('resolved')} resolved, ${notifier.published.length - before} notification(s)`,
    );
  };

  const printOpenFindings = async () => {
    const open = [
      ...(await findings.list(PRIVILEGE_SOURCE)),
      ...(await findings.list(API_KEY_SOURCE)),
    ].filter((f) => isOpen(f.status));
    if (open.length === 0) print('    open findings: none');
    for (const f of open) print(`    ${f.status.padEnd(7)} ${describe(f)}`);
  };

  const lpUser = cognigyState.findByKey(COGNIGY_SANDBOX_KEYS.leastPrivilege)!.user.id;
  const admin = cognigyState.findByKey(COGNIGY_SANDBOX_KEYS.admin)!;
  const spare = cognigyState.findByKey(COGNIGY_SANDBOX_KEYS.adminSpare)!.apiKey;

  await report('least-privilege user (matches the default manifest)', COGNIGY_SANDBOX_KEYS.leastPrivilege);

  cognigyState.revoke(lpUser, { rights: ['apiKeys.read'] });
  await report('same user after apiKeys.read was taken away', COGNIGY_SANDBOX_KEYS.leastPrivilege);
  cognigyState.grant(lpUser, { rights: ['apiKeys.read'] });

  await report('over-privileged admin user', COGNIGY_SANDBOX_KEYS.admin);
  await report('admin user again (nothing new: nothing notified)', COGNIGY_SANDBOX_KEYS.admin);

  cognigyState.removeApiKey(admin.user.id, spare.id);
  try {
    await report(`admin user after revoking the spare key "${spare.name}"`, COGNIGY_SANDBOX_KEYS.admin);
  } finally {
    cognigyState.addApiKey(admin.user.id, {
      id: spare.id,
      name: spare.name,
      key: spare.key,
      createdAt: spare.createdAt,
    });
  }
};

function describe(f: Finding): string {
  const facts = f.facts as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
  const short = (items: string[]) =>
    `${items.slice(0, 4).join(', ')}${items.length > 4 ? ` +${items.length - 4} more` : ''}`;
  if (f.subjectId.startsWith('over-privileged:')) {
    const roles = list(facts.extraRoles);
    const rights = list(facts.extraRights);
    return `over-privileged ${String(facts.scope)}: ${[roles.length ? `roles ${roles.join(', ')}` : '', rights.length ? `rights ${short(rights)}` : ''].filter(Boolean).join('; ')}`;
  }
  if (f.subjectId.startsWith('missing:')) {
    return `missing ${String(facts.scope)}: ${[...list(facts.missingRoles).map((r) => `role ${r}`), ...list(facts.missingRights)].join(', ')}`;
  }
  if (f.subjectId.startsWith('key:')) {
    return `key "${String(facts.name)}" ${ageInDays(Number(facts.createdAt), Date.now())} days old — ${f.reason}`;
  }
  const keys = (facts.keys as { keyId: string; name: string | null; ownKey: boolean }[] | undefined) ?? [];
  return `${f.reason}: ${keys.map((k) => `"${k.name ?? k.keyId}"${k.ownKey ? ' (used by this automation)' : ''}`).join(', ')}`;
}
