/**
 * `npm start -- sweep`: the stale personal-access-token sweep against the sandbox tenant's ~50
 * seeded tokens, through the same handler the Lambda function runs, with findings in the local
 * DynamoDB table and notifications printed.
 *
 *   1. today: warnings, flags, exemptions and managed tokens, each new finding notified once
 *   2. today again: nothing changed, so nothing is written and nobody is notified
 *   3. 15 days later, in dry-run mode: what revocation would delete once the grace period is over
 *   4. revocation switched on that day: nothing is deleted; each flagged token's owner gets a notice
 *      with its revocation date first (SNS refuses one of them, as an outage would)
 *   5. the day before that date: nothing deleted; the refused notice goes out now, dated from today
 *   6. on the date: the tokens whose owners were told are revoked; the late-told one waits for its own date
 *
 * Settings come from the environment like in Lambda (STALE_TOKEN_*); when STALE_TOKEN_EXEMPTIONS is
 * unset the demo adds two exemptions to show them: one active, one expired.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createDocumentClient } from '../../functions/shared/aws';
import type { Env } from '../../functions/shared/config';
import { FINDINGS_SOURCE } from '../../functions/stale-token-sweep/sweep';
import { FindingsStore } from '../../functions/shared/findings';
import { RecordingNotifier, type Notification } from '../../functions/shared/notifier';
import { createSailPointClientFromEnv } from '../../functions/shared/sailpoint';
import { createStaleTokenSweepHandler, SERVICE_NAME } from '../../functions/stale-token-sweep/handler';
import { DAY_MS } from '../../functions/stale-token-sweep/policy';
import { parseStaleTokenSweepSettings, policyFromSettings } from '../../functions/stale-token-sweep/settings';
import type { SweepSummary } from '../../functions/stale-token-sweep/sweep';
import { sailPointTokenDirectory } from '../../functions/stale-token-sweep/token-directory';
import type { LocalDemo } from '../environment';

const context = { functionName: SERVICE_NAME, awsRequestId: 'local' } as Context;

export const DEMO_EXEMPTIONS = [
  { tokenId: '7a700000000000000000000000000019', reason: 'break-glass token, reviewed every quarter' },
  { namePattern: 'hackathon*', reason: 'hackathon clean-up postponed', expires: '2024-12-31' },
];

export const staleTokenSweepDemo: LocalDemo = async (local) => {
  const { print, sandbox } = local;
  const env: Env = {
    STALE_TOKEN_EXEMPTIONS: JSON.stringify(DEMO_EXEMPTIONS),
    ...local.env,
    // The setting must be a topic ARN; the demo prints notifications instead of publishing them
    // (in AWS the stack sets the real topic, and the function checks it exists at its first run).
    NOTIFICATIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:local-printed',
  };
  const settings = parseStaleTokenSweepSettings(env);
  const policy = policyFromSettings(settings);
  const findings = new FindingsStore({ doc: createDocumentClient(), tableName: local.tables.findings });
  const notifier = new RecordingNotifier((line) => print(`    ${line.trim()}`));
  const verbose = env.LOG_LEVEL === 'DEBUG' || env.LOG_LEVEL === 'INFO';
  const logger = new Logger({
    serviceName: SERVICE_NAME,
    logLevel: verbose ? (env.LOG_LEVEL as 'INFO') : 'SILENT',
  });
  const metrics = new Metrics({ namespace: 'IgaAutopilot', serviceName: SERVICE_NAME });
  const client = await createSailPointClientFromEnv(env);
  let offsetMs = 0;
  const handler = createStaleTokenSweepHandler({
    policy,
    connect: async () => ({ tokens: sailPointTokenDirectory(client), stats: client.stats }),
    findings,
    notifier,
    logger,
    metrics,
    clock: () => new Date(Date.now() + offsetMs),
  });

  print(
    `  policy: stale after ${policy.staleAfterDays} days idle, warning after ${policy.warnAfterDays ?? '(off)'}, ` +
      `never-used after ${policy.neverUsedAfterDays}; managed tokens ${policy.includeManaged ? 'included' : 'excluded'}; ` +
      `${policy.exemptions.length} exemption(s); revocation ${policy.revocation.enabled ? 'ON' : 'off (dry run)'}, ` +
      `grace ${policy.revocation.graceDays} days`,
  );
  print(`  tenant: ${sandbox.state.personalAccessTokens.size} personal access tokens`);

  const sweep = async (title: string, event: object, run: typeof handler = handler) => {
    print('');
    print(`  ▸ ${title}`);
    const calls = sandbox.requestLog.count({ path: '/beta/personal-access-tokens' });
    let summary: SweepSummary;
    try {
      summary = await run(event, context);
    } catch (error) {
      const failed = (error as { summary?: SweepSummary }).summary;
      if (!failed) throw error;
      summary = failed;
    }
    const c = summary.counts;
    const apiCalls = sandbox.requestLog.count({ path: '/beta/personal-access-tokens' }) - calls;
    print(
      `    ${summary.status} (${summary.mode}) — ${c.tokensFetched} candidate tokens from ${apiCalls} filtered API calls`,
    );
    print(
      `    verdicts: ${c.flagged} flagged · ${c.warned} warned · ${c.exempt} exempt · ${c.excludedManaged} managed (excluded)`,
    );
    print(
      `    changes: ${c.newFindings} new · ${c.escalated} escalated · ${c.exempted} exempted · ${c.resolved} resolved · ${c.revoked} revoked` +
        ` — ${c.notified} notification(s), ${c.findingWrites} DynamoDB write(s)`,
    );
    for (const error of summary.errors) print(`    error: ${error}`);
    return summary;
  };

  await sweep('Run 1 — today', { 'detail-type': 'Scheduled Event' });
  await sweep('Run 2 — today again (nothing changed: expect 0 writes, 0 notifications)', {
    'detail-type': 'Scheduled Event',
  });

  offsetMs = (policy.revocation.graceDays + 1) * DAY_MS;
  const later = await sweep(
    `Run 3 — simulated ${policy.revocation.graceDays + 1} days later, dry run (nobody used a token meanwhile)`,
    { dryRun: true },
  );
  print(`    would revoke ${later.wouldRevoke.length} token(s) (grace period over, dry run):`);
  for (const t of later.wouldRevoke) {
    print(
      `      - "${t.name}" of ${t.ownerName ?? t.ownerId}: ${t.reason}, ${t.lastUsed ? `last used ${t.lastUsed.slice(0, 10)}` : 'never used'}, ` +
        `flagged since ${t.firstFlaggedAt?.slice(0, 10)}`,
    );
  }

  const open = (await findings.list(FINDINGS_SOURCE)).filter((f) => f.status === 'EXEMPT');
  for (const f of open) print(`    exempt: "${String(f.facts.tokenName)}" — ${f.reason}`);

  if (policy.revocation.enabled || later.wouldRevoke.length === 0) {
    print('');
    print('  (revocation is already on, or nothing is flagged: the arming scenario is skipped)');
    return;
  }
  // Revocation switched on after the dry-run days (STALE_TOKEN_REVOKE=true). Notices are printed
  // three per run; SNS refuses the first flagged token's notice on the day revocation is switched on.
  const grace = policy.revocation.graceDays;
  const refused = { tokenId: later.wouldRevoke[0]!.tokenId, on: true };
  let shown = 0;
  const printed = new RecordingNotifier((line) => {
    if (shown++ < 3) print(`    ${line.trim()}`);
  });
  const flakySns = {
    async publish(n: Notification) {
      if (refused.on && n.detail.tokenId === refused.tokenId) throw new Error('SNS unavailable (simulated)');
      return printed.publish(n);
    },
  };
  const armed = createStaleTokenSweepHandler({
    policy: { ...policy, revocation: { ...policy.revocation, enabled: true } },
    connect: async () => ({ tokens: sailPointTokenDirectory(client), stats: client.stats }),
    findings,
    notifier: flakySns,
    logger,
    metrics,
    clock: () => new Date(Date.now() + offsetMs),
  });
  const armedRun = async (title: string) => {
    shown = 0;
    const summary = await sweep(title, { trigger: 'schedule' }, armed);
    if (shown > 3) print(`    … and ${shown - 3} more notification(s)`);
    const deletes = sandbox.requestLog.count({ method: 'DELETE', path: /^\/beta\/personal-access-tokens\// });
    print(`    tokens revoked so far: ${deletes}`);
    return summary;
  };
  const lateToken = `"${later.wouldRevoke[0]!.name}" of ${later.wouldRevoke[0]!.ownerName ?? later.wouldRevoke[0]!.ownerId}`;
  const dateOf = async (tokenId: string) => {
    const f = await findings.get(FINDINGS_SOURCE, tokenId);
    return `${f?.status}, revocation date ${String(f?.facts.revokeFrom ?? 'none').slice(0, 10)}, notice ${f?.notification?.state ?? 'none'}`;
  };

  await armedRun(
    `Run 4 — the same day, revocation switched on (STALE_TOKEN_REVOKE=true): dates first, nothing deleted; SNS refuses the notice of ${lateToken}`,
  );
  print(`    ${lateToken}: ${await dateOf(refused.tokenId)}`);
  refused.on = false;
  offsetMs = 2 * grace * DAY_MS;
  await armedRun(
    `Run 5 — ${2 * grace} days after Run 1, the day before the date: nothing deleted; the refused notice goes out, dated from today`,
  );
  print(`    ${lateToken}: ${await dateOf(refused.tokenId)}`);
  offsetMs = (2 * grace + 1) * DAY_MS;
  await armedRun(`Run 6 — on the date: the tokens whose owners were told are revoked`);
  print(`    ${lateToken}: ${await dateOf(refused.tokenId)}`);
};
