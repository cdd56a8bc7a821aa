/**
 * `npm start`: runs every workflow for real on the embedded default — the sandbox tenant and the
 * DynamoDB/SQS emulators, all in this process on loopback. No AWS account, no SailPoint tenant.
 *
 *   npm start                      all workflows
 *   npm start -- sweep access      only the named ones (sweep, access, absence, cognigy)
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { TABLES, type TableKey } from '../functions/shared/tables';
import { createTable, LOCAL_AWS_ENV, localDynamoClient, startDynamo, startQueues } from '../local/emulators';
import type { LocalDemo, LocalEnvironment } from '../local/environment';
import { startSandbox } from '../sandbox/server';
import { staleTokenSweepDemo } from '../local/demos/stale-token-sweep';
import { accessProvisioningDemo } from '../local/demos/access-provisioning';
import { absenceReassignmentDemo } from '../local/demos/absence-reassignment';
import { cognigyAuditDemo } from '../local/demos/cognigy-audit';

const DEMOS: Record<string, { title: string; run: LocalDemo }> = {
  sweep: { title: 'Stale personal-access-token sweep', run: staleTokenSweepDemo },
  access: { title: 'Queue-fed access provisioning', run: accessProvisioningDemo },
  absence: { title: 'HR absence events → reassignment configurations', run: absenceReassignmentDemo },
  cognigy: { title: 'Cognigy.AI credential audit', run: cognigyAuditDemo },
};

async function main(): Promise<void> {
  const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = requested.filter((name) => !(name in DEMOS));
  if (unknown.length) {
    throw new Error(
      `unknown workflow(s): ${unknown.join(', ')}; choose from ${Object.keys(DEMOS).join(', ')}`,
    );
  }
  const selected = requested.length ? requested : Object.keys(DEMOS);

  const print = (line: string) => process.stdout.write(`${line}\n`);
  const [dynamo, queues, sandbox] = await Promise.all([startDynamo(), startQueues(), startSandbox()]);
  try {
    // The SDK reads these, so the functions' own clients reach the emulators unchanged.
    Object.assign(process.env, LOCAL_AWS_ENV, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: queues.endpoint,
      AWS_ENDPOINT_URL_SNS: queues.endpoint,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_DEV: 'true',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
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

    print(`IGA Autopilot — local run on the embedded default`);
    print(`  sandbox tenant  ${sandbox.url}`);
    print(`  DynamoDB        ${dynamo.endpoint} (dynalite)`);
    print(`  SQS/SNS         ${queues.endpoint} (fauxqs)`);
    for (const name of selected) {
      const demo = DEMOS[name]!;
      print('');
      print(`━━ ${demo.title} ━━`);
      await demo.run(local);
    }
    print('');
    print(`SailPoint/Cognigy sandbox served ${sandbox.requestLog.entries.length} requests in total.`);
  } finally {
    await Promise.allSettled([sandbox.stop(), queues.stop(), dynamo.stop()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`\nnpm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
