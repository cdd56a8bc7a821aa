/**
 * `npm run report`: the governance report from the local stack, without AWS. Starts the sandbox
 * tenant and the DynamoDB/SQS emulators in this process (as `npm start` does), runs the workflows
 * (local/report-scenario.ts), and writes the report as the sweep would to S3:
 *
 *   npm run report                                   artifacts/report/report.html + artifacts/report/csv/
 *   npm run report -- --out report.html --csv csv    elsewhere
 */
import { parseArgs } from 'node:util';
import { createDocumentClient } from '../functions/shared/aws';
import { sailPointOwnerDirectory } from '../functions/shared/findings';
import { createSailPointClientFromEnv } from '../functions/shared/sailpoint';
import { gatherReport, writeReportFiles } from '../functions/shared/report';
import { TABLES, type TableKey } from '../functions/shared/tables';
import { createTable, LOCAL_AWS_ENV, localDynamoClient, startDynamo, startQueues } from '../local/emulators';
import type { LocalEnvironment } from '../local/environment';
import { runReportScenario, SCENARIO_REVOCATION } from '../local/report-scenario';
import { startSandbox } from '../sandbox/server';
import { SQSClient } from '@aws-sdk/client-sqs';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'artifacts/report/report.html' },
      csv: { type: 'string', default: 'artifacts/report/csv' },
      'period-days': { type: 'string', default: '30' },
    },
  });
  const periodDays = Number(values['period-days']);
  if (!Number.isInteger(periodDays) || periodDays < 1)
    throw new Error('--period-days must be a whole number ≥ 1');

  const print = (line: string) => process.stdout.write(`${line}\n`);
  const [dynamo, queues, sandbox] = await Promise.all([startDynamo(), startQueues(), startSandbox()]);
  try {
    Object.assign(process.env, LOCAL_AWS_ENV, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: queues.endpoint,
      AWS_ENDPOINT_URL_SNS: queues.endpoint,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_DEV: 'true',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'ERROR',
    });
    const dynamoClient = localDynamoClient(dynamo.endpoint);
    const tables = {} as Record<TableKey, string>;
    for (const key of Object.keys(TABLES) as TableKey[]) {
      tables[key] = `local-${TABLES[key].logicalId}`;
      await createTable(dynamoClient, TABLES[key], tables[key]);
    }
    const env = {
      ...process.env,
      SAILPOINT_API_URL: sandbox.url,
      SAILPOINT_CLIENT_ID: 'sandbox-pat-client',
      SAILPOINT_CLIENT_SECRET: 'sandbox-pat-secret',
      COGNIGY_API_URL: `${sandbox.url}/new`,
      ...Object.fromEntries((Object.keys(TABLES) as TableKey[]).map((k) => [TABLES[k].envVar, tables[k]])),
    };
    const local: LocalEnvironment = {
      sandbox,
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: queues.endpoint,
      sqs: new SQSClient({
        endpoint: queues.endpoint,
        region: LOCAL_AWS_ENV.AWS_REGION,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      tables,
      env,
      print,
    };

    print('IGA Autopilot — report from the local stack (sandbox tenant, dynalite, fauxqs)');
    await runReportScenario(local);

    const client = await createSailPointClientFromEnv(env);
    const { report, stats } = await gatherReport({
      doc: createDocumentClient(),
      tables,
      now: new Date(),
      periodDays,
      revocation: SCENARIO_REVOCATION,
      source: 'local sandbox tenant (npm run report)',
      people: sailPointOwnerDirectory(client),
    });
    const { written } = await writeReportFiles(report, { htmlPath: values.out, csvDir: values.csv });
    const c = report.counts;
    print('');
    print(
      `  ${c.tokensFlagged} stale + ${c.tokensNeverUsed} never-used token(s) flagged, ${c.tokensWarned} warned, ` +
        `${c.tokensRevoked} revoked and ${c.tokensResolved} resolved in ${periodDays} days; ${c.cognigyOpen} Cognigy finding(s); ` +
        `${c.accessSubmitted} access unit(s) submitted, ${c.accessDuplicates} duplicate(s), ${c.accessDeadLettered} dead letter(s); ` +
        `${c.absencesCurrent} away now, ${c.absencesUpcoming} upcoming`,
    );
    print(
      `  read with ${stats.queries} query page(s), ${stats.scanPages} scan page(s) over ${stats.itemsScanned} item(s), ` +
        `${stats.peopleLookedUp} people looked up`,
    );
    print(`  wrote ${written[0]} and ${written.length - 1} CSV file(s) in ${values.csv}`);
  } finally {
    await Promise.allSettled([sandbox.stop(), queues.stop(), dynamo.stop()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `\nnpm run report failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
