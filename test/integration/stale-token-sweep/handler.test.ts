/** The Lambda handler over the wire: event parsing, summary and metrics, failing invocations, settings. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { ConfigError } from '../../../functions/shared/config';
import {
  StaleTokenSweepFailedError,
  createStaleTokenSweepHandler,
  depsFromEnvironment,
} from '../../../functions/stale-token-sweep/handler';
import { disableMetricsOutput, recordingMetrics } from '../../support/powertools';
import { DAY_MS, defaultPolicy, sweepHarness, type Harness } from './harness';

const context = { functionName: 'stale-token-sweep', awsRequestId: 'req-1' } as Context;
const scheduleEvent = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

describe('stale-token-sweep handler', () => {
  let h: Harness;
  disableMetricsOutput();
  afterEach(() => h?.stop());

  async function build(options: { revoke?: boolean; clientSecret?: string } = {}) {
    h = await sweepHarness({ clientSecret: options.clientSecret });
    const { metrics, recorded } = recordingMetrics('stale-token-sweep');
    const logged: { level: string; message: string; extra: unknown }[] = [];
    const logger = new Logger({ serviceName: 'stale-token-sweep', logLevel: 'SILENT' });
    for (const level of ['info', 'warn', 'error'] as const) {
      jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        logged.push({ level, message: String(args[0]), extra: args[1] });
      });
    }
    let connects = 0;
    const handler = createStaleTokenSweepHandler({
      policy: defaultPolicy({ revocation: { enabled: options.revoke ?? false, graceDays: 0 } }),
      connect: async () => {
        connects++;
        return { tokens: h.tokens, stats: h.client.stats };
      },
      findings: h.store,
      notifier: h.notifier,
      logger,
      metrics,
      clock: () => new Date(h.clock.nowMs),
    });
    return { handler, recorded, logged, connects: () => connects };
  }

  it('runs on the schedule event, returns and logs the summary, and emits one metric per count', async () => {
    const { handler, recorded, logged, connects } = await build();
    h.plant({ id: 'stale', lastUsedAgoMs: 200 * DAY_MS }, { id: 'idle', lastUsedAgoMs: 80 * DAY_MS });

    const summary = await handler(scheduleEvent, context);
    expect(summary).toMatchObject({
      status: 'succeeded',
      mode: 'dry-run',
      counts: { flagged: 1, warned: 1, newFindings: 2 },
    });
    expect(recorded).toMatchObject({
      Flagged: 1,
      Warned: 1,
      NewFindings: 2,
      Notified: 2,
      FindingWrites: 4,
      SweepFailed: 0,
    });
    const line = logged.find((l) => l.message === 'stale-token sweep summary');
    expect(line?.extra).toMatchObject({
      summary: { runId: summary.runId },
      sailPointHttp: { httpRequests: 2, retries: 0 },
    });

    await handler({}, context);
    expect(connects()).toBe(1); // the SailPoint side is built once per container
    expect(recorded.NewFindings).toBe(2);
  });

  it('an on-demand {"dryRun": true} never revokes, even when revocation is enabled', async () => {
    const { handler } = await build({ revoke: true });
    h.plant({ id: 'stale', lastUsedAgoMs: 200 * DAY_MS });

    const dry = await handler({ dryRun: true }, context);
    expect(dry).toMatchObject({
      mode: 'dry-run',
      wouldRevoke: [expect.objectContaining({ tokenId: 'stale' })],
    });
    expect(h.sandbox.requestLog.count({ method: 'DELETE' })).toBe(0);

    const real = await handler(scheduleEvent, context);
    expect(real).toMatchObject({ mode: 'revoke', revoked: [expect.objectContaining({ tokenId: 'stale' })] });
  });

  it('refuses an event it cannot read, with a clear message', async () => {
    const { handler } = await build();
    await expect(handler({ dryRun: 'yes' }, context)).rejects.toThrow(/dryRun must be true or false/);
    await expect(handler('run' as unknown as object, context)).rejects.toThrow(/the event must be/);
    expect(h.sandbox.requestLog.entries).toHaveLength(0);
  });

  it('refuses a misspelt or non-boolean dryRun, and any unknown key: nothing is called, nothing revoked (#11)', async () => {
    const { handler } = await build({ revoke: true });
    h.plant({ id: 'stale', lastUsedAgoMs: 200 * DAY_MS });
    for (const event of [
      { dry_run: true },
      { DryRun: true },
      { dryrun: 'true' },
      { dryRun: 'true' },
      { dryRun: true, revoke: false },
      { ...scheduleEvent, dryrun: true },
    ]) {
      await expect(handler(event, context)).rejects.toThrow(/stale-token-sweep: the event must be/);
    }
    expect(h.sandbox.requestLog.entries).toHaveLength(0);
    expect(h.sandbox.state.personalAccessTokens.has('stale')).toBe(true);
    // What the stack's schedule sends, an EventBridge rule's event, and the on-demand forms still run.
    for (const event of [
      { trigger: 'schedule' },
      scheduleEvent,
      {},
      { dryRun: true },
      { trigger: 'manual' },
    ]) {
      await expect(handler(event, context)).resolves.toMatchObject({ status: 'succeeded' });
    }
  });

  it('fails the invocation when the sweep fails, after logging and counting it', async () => {
    const { handler, recorded, logged } = await build({ clientSecret: 'wrong-secret-value' });
    const error = await handler(scheduleEvent, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleTokenSweepFailedError);
    expect((error as Error).message).toMatch(
      /failed \(1 error\(s\); findings written so far are kept, rerunning is safe\): SailPoint refused/,
    );
    expect(recorded).toMatchObject({ SweepFailed: 1, Errors: 1 });
    expect(JSON.stringify(logged)).not.toContain('wrong-secret-value');
  });

  it('builds from the environment, refusing a bad setting by name', () => {
    const env = {
      FINDINGS_TABLE: 'findings',
      NOTIFICATIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t',
      SAILPOINT_TENANT: 'acme',
    };
    expect(depsFromEnvironment(env).policy).toMatchObject({
      staleAfterDays: 90,
      warnAfterDays: 75,
      neverUsedAfterDays: 30,
    });
    expect(() => depsFromEnvironment({ ...env, STALE_TOKEN_STALE_AFTER_DAYS: 'ninety' })).toThrow(
      ConfigError,
    );
    expect(() => depsFromEnvironment({ ...env, STALE_TOKEN_STALE_AFTER_DAYS: 'ninety' })).toThrow(
      /STALE_TOKEN_STALE_AFTER_DAYS: must be a whole number/,
    );
    // Number() would read these as 16, 1000 and 90: decimal digits only (#11).
    for (const value of ['0x10', '1e3', '90.0']) {
      expect(() => depsFromEnvironment({ ...env, STALE_TOKEN_STALE_AFTER_DAYS: value })).toThrow(
        /STALE_TOKEN_STALE_AFTER_DAYS: must be a whole number in decimal digits/,
      );
    }
    expect(() => depsFromEnvironment({ ...env, STALE_TOKEN_EXEMPTIONS: '[{"ownerId": "x"}]' })).toThrow(
      /STALE_TOKEN_EXEMPTIONS\.0\.reason: reason is required/,
    );
    expect(() => depsFromEnvironment({ NOTIFICATIONS_TOPIC_ARN: 'arn' })).toThrow(/FINDINGS_TABLE/);
    // Where SailPoint is, and whether its host is allowed, is known at init: before any secret is read.
    const { SAILPOINT_TENANT: _tenant, ...noTenant } = env;
    expect(() => depsFromEnvironment(noTenant)).toThrow(
      /SAILPOINT_TENANT: SailPoint API location is not configured/,
    );
    expect(() => depsFromEnvironment({ ...noTenant, SAILPOINT_API_URL: 'https://evil.example.com' })).toThrow(
      /SAILPOINT_API_URL: .*evil\.example\.com/,
    );
  });

  it('a notifications topic that is not an ARN, or does not exist, stops the function naming the setting (#11)', async () => {
    const env = { FINDINGS_TABLE: 'findings', SAILPOINT_TENANT: 'acme' };
    expect(() => depsFromEnvironment({ ...env, NOTIFICATIONS_TOPIC_ARN: 'local-printed' })).toThrow(
      /NOTIFICATIONS_TOPIC_ARN: must be an SNS topic ARN/,
    );
    // fauxqs (the SNS endpoint of the tests) has no such topic: the first invocation fails before any SailPoint call.
    const deps = depsFromEnvironment({
      ...env,
      NOTIFICATIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:no-such-topic',
    });
    const error = await deps.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/NOTIFICATIONS_TOPIC_ARN: topic .*no-such-topic does not exist/);
  });
});
