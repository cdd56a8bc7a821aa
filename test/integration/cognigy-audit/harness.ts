/** A sandbox, a fresh findings table, a recording notifier and a settable clock for audit runs. */
import { CognigyClient } from '../../../functions/shared/cognigy';
import { FindingsStore } from '../../../functions/shared/findings';
import { RecordingNotifier } from '../../../functions/shared/notifier';
import { silentLog, type LogSink } from '../../../functions/shared/observability';
import { DEFAULT_API_KEY_POLICY, type ApiKeyPolicy } from '../../../functions/cognigy-audit/api-key-policy';
import { runCognigyAudit } from '../../../functions/cognigy-audit/audit';
import {
  DEFAULT_RIGHTS_MANIFEST,
  RightsManifestSchema,
  type RightsManifest,
} from '../../../functions/cognigy-audit/manifest';
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import { freshTable } from '../../support/emulators';

export const START = '2026-03-01T12:00:00Z';
export const DAY_MS = 86_400_000;

export async function startHarness() {
  let now = Date.parse(START);
  const clock = { now: () => new Date(now), advanceDays: (days: number) => void (now += days * DAY_MS) };
  const sandbox: Sandbox = await startSandbox({ now: clock.now });
  const { tableName, doc } = await freshTable('findings');
  const store = new FindingsStore({ doc, tableName });
  const notifier = new RecordingNotifier();
  const sleeps: number[] = [];

  const client = (apiKey: string) =>
    new CognigyClient({
      apiUrl: `${sandbox.url}/new`,
      apiKey,
      rateLimit: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      sleep: async (ms) => void sleeps.push(ms),
    });

  const run = (
    apiKey: string,
    options: { manifest?: RightsManifest; keyPolicy?: ApiKeyPolicy; apiKeyId?: string; log?: LogSink } = {},
  ) =>
    runCognigyAudit({
      cognigy: client(apiKey),
      apiKey,
      apiKeyId: options.apiKeyId,
      manifest: options.manifest ?? RightsManifestSchema.parse(DEFAULT_RIGHTS_MANIFEST),
      keyPolicy: options.keyPolicy ?? DEFAULT_API_KEY_POLICY,
      findings: store,
      notifier,
      now: clock.now,
      log: options.log ?? silentLog,
    });

  return { sandbox, store, notifier, clock, sleeps, client, run, stop: () => sandbox.stop() };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** The sandbox user id that holds `apiKey`. */
export function userOf(h: Harness, apiKey: string): string {
  const found = h.sandbox.state.cognigy.findByKey(apiKey);
  if (!found) throw new Error('no such sandbox key');
  return found.user.id;
}
