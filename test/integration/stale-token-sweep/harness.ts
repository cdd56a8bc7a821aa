/**
 * Test harness: the sweep wired to a real sandbox tenant (HTTP on loopback) and a fresh dynalite
 * findings table, with a controllable clock. Tokens are planted in the sandbox with exact
 * timestamps relative to the clock, so the one-day boundaries can be tested to the millisecond.
 */
import { FindingsStore } from '../../../functions/shared/findings';
import { RecordingNotifier } from '../../../functions/shared/notifier';
import { SailPointClient } from '../../../functions/shared/sailpoint';
import { compileExemption, type ExemptionConfig } from '../../../functions/stale-token-sweep/exemptions';
import { DAY_MS, type StaleTokenPolicy } from '../../../functions/stale-token-sweep/policy';
import { FINDINGS_SOURCE, runStaleTokenSweep } from '../../../functions/stale-token-sweep/sweep';
import {
  sailPointTokenDirectory,
  type TokenDirectory,
} from '../../../functions/stale-token-sweep/token-directory';
import { startSandbox, type Sandbox, type SandboxPat } from '../../../sandbox/server';
import { freshTable } from '../../support/emulators';
import { countDynamoCalls } from '../findings/dynamo-call-counter';

export { DAY_MS };
export const T0 = Date.parse('2025-06-15T06:00:00.000Z');
export const OWNER = { id: '2c9180aa000000000000000000000004', name: 'Owner Four' };
export const OTHER_OWNER = { id: '2c9180aa000000000000000000000005', name: 'Owner Five' };

export const defaultPolicy = (overrides: Partial<StaleTokenPolicy> = {}): StaleTokenPolicy => ({
  staleAfterDays: 90,
  warnAfterDays: 75,
  neverUsedAfterDays: 30,
  includeManaged: false,
  exemptions: [],
  revocation: { enabled: false, graceDays: 14 },
  ...overrides,
});

export const exemptions = (...configs: ExemptionConfig[]) => configs.map(compileExemption);

export interface PlantedToken {
  id: string;
  name?: string;
  owner?: { id: string; name: string };
  /** ms before T0; null: never used. */
  lastUsedAgoMs: number | null;
  createdAgoMs?: number;
  managed?: boolean;
}

export interface HarnessOptions {
  /** Keep the default seed's ~50 tokens instead of starting from an empty tenant. */
  keepSeedTokens?: boolean;
  clientId?: string;
  clientSecret?: string;
  /** Records the client's retry waits instead of sleeping. */
  sleeps?: number[];
  maxAttempts?: number;
}

export async function sweepHarness(options: HarnessOptions = {}) {
  const clock = { nowMs: T0 };
  const sandbox: Sandbox = await startSandbox({ now: () => new Date(T0) }); // SailPoint's rate limit on, as in the real tenant
  if (!options.keepSeedTokens) sandbox.state.personalAccessTokens.clear();
  const table = await freshTable('findings');
  const dynamo = countDynamoCalls(table.client);
  const sleeps = options.sleeps ?? [];
  const client = new SailPointClient({
    apiUrl: sandbox.url,
    clientId: options.clientId ?? 'sandbox-pat-client',
    clientSecret: options.clientSecret ?? 'sandbox-pat-secret',
    retry: { maxAttempts: options.maxAttempts ?? 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterSeconds: 5 },
    sleep: async (ms) => void sleeps.push(ms),
  });
  const tokens = sailPointTokenDirectory(client);
  const notifier = new RecordingNotifier();
  const newStore = () => new FindingsStore({ doc: table.doc, tableName: table.tableName });
  const store = newStore();

  const plant = (...planted: PlantedToken[]) => {
    for (const p of planted) {
      const pat: SandboxPat = {
        id: p.id,
        name: p.name ?? `token ${p.id}`,
        scope: ['sp:scopes:all'],
        owner: { type: 'IDENTITY', ...(p.owner ?? OWNER) },
        created: new Date(T0 - (p.createdAgoMs ?? 400 * DAY_MS)).toISOString(),
        lastUsed: p.lastUsedAgoMs === null ? null : new Date(T0 - p.lastUsedAgoMs).toISOString(),
        managed: p.managed ?? false,
      };
      sandbox.state.personalAccessTokens.set(p.id, pat);
    }
  };

  const run = (
    policy: StaleTokenPolicy = defaultPolicy(),
    extra: { tokens?: TokenDirectory; store?: FindingsStore; runId?: string } = {},
  ) =>
    runStaleTokenSweep({
      tokens: extra.tokens ?? tokens,
      findings: extra.store ?? store,
      notifier,
      policy,
      clock: () => new Date(clock.nowMs),
      ...(extra.runId ? { newRunId: () => extra.runId! } : {}),
    });

  const finding = (tokenId: string) => store.get(FINDINGS_SOURCE, tokenId);
  const findings = async () =>
    Object.fromEntries((await store.list(FINDINGS_SOURCE)).map((f) => [f.subjectId, f.status]));
  const listCalls = () => sandbox.requestLog.filter({ method: 'GET', path: '/beta/personal-access-tokens' });

  return {
    sandbox,
    table,
    dynamo,
    client,
    tokens,
    notifier,
    store,
    newStore,
    clock,
    sleeps,
    plant,
    run,
    finding,
    findings,
    listCalls,
    stop: () => sandbox.stop(),
  };
}

export type Harness = Awaited<ReturnType<typeof sweepHarness>>;
