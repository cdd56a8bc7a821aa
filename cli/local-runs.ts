/**
 * `iga --local sweep|audit`: the local stack has no Lambda service, so the CLI runs the function's
 * own handler in this process, built from the environment the local stack gives its functions, with
 * its AWS clients pointed at the local stack's emulators. The result is what `lambda invoke` returns.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  depsFromEnvironment as cognigyDeps,
  createCognigyAuditHandler,
  SERVICE_NAME as COGNIGY_SERVICE,
} from '../functions/cognigy-audit/handler';
import { FindingsStore } from '../functions/shared/findings';
import { SnsNotifier } from '../functions/shared/notifier';
import { TABLES } from '../functions/shared/tables';
import { DynamoExemptionStore } from '../functions/stale-token-sweep/exemption-store';
import {
  createStaleTokenSweepHandler,
  depsFromEnvironment as sweepDeps,
  SERVICE_NAME as SWEEP_SERVICE,
} from '../functions/stale-token-sweep/handler';
import type { LocalStackDescription } from '../local/stack';
import { fakeContext } from '../local/queue-poller';

export type RunName = 'sweep' | 'audit';

export type RunResult = { ok: true; summary: unknown } | { ok: false; error: string; summary?: unknown };

export interface LocalRunDeps {
  readonly state: LocalStackDescription;
  readonly doc: DynamoDBDocumentClient;
  readonly sns: SNSClient;
}

export async function runLocally(
  name: RunName,
  payload: Record<string, unknown>,
  { state, doc, sns }: LocalRunDeps,
): Promise<RunResult> {
  const env = { ...state.functionEnv };
  const tableName = state.tables.findings;
  const shared = {
    findings: new FindingsStore({ doc, tableName }),
    notifier: new SnsNotifier(sns, state.topicArn),
  };
  // The summary is the output here; the function's JSON logs would only get in its way.
  const quiet = (serviceName: string) => new Logger({ serviceName, logLevel: 'SILENT' });
  try {
    const summary =
      name === 'sweep'
        ? await createStaleTokenSweepHandler({
            ...sweepDeps(env),
            ...shared,
            exemptions: new DynamoExemptionStore(doc, env[TABLES.findings.envVar] ?? tableName),
            logger: quiet(SWEEP_SERVICE),
          })(payload, fakeContext(SWEEP_SERVICE))
        : await createCognigyAuditHandler({
            ...cognigyDeps(env),
            ...shared,
            logger: quiet(COGNIGY_SERVICE),
          })(payload, fakeContext(COGNIGY_SERVICE));
    return { ok: true, summary };
  } catch (error) {
    const summary = (error as { summary?: unknown }).summary;
    return {
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      ...(summary ? { summary } : {}),
    };
  }
}
