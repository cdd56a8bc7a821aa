/**
 * In-process protocol emulators on loopback: dynalite for DynamoDB and fauxqs for SQS/SNS.
 * Used by `npm start` (bin/local.ts) and by the jest global setup, so local runs and integration
 * tests talk to the same real wire protocols the AWS SDK speaks in the cloud.
 */
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from '../functions/shared/tables';

/** Static dummy credentials: the emulators accept any, and the SDK must not look for real ones. */
export const LOCAL_AWS_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;

export interface RunningEmulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startDynamo(): Promise<RunningEmulator> {
  // dynalite is CommonJS; its in-memory LevelDB store needs no files.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (opts: object) => import('node:http').Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * dynalite in a child process (local/dynalite-process.js), for the benchmarks: its CPU then runs
 * beside the instances' instead of blocking their event loop, as DynamoDB is not on a Lambda's CPU.
 */
export async function startDynamoProcess(): Promise<RunningEmulator> {
  const child = fork(join(__dirname, 'dynalite-process.js'), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite process exited (${code}) before listening`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

export async function startQueues(): Promise<RunningEmulator> {
  // fauxqs ships ES modules only; a native dynamic import keeps it out of any CommonJS transform.
  const { startFauxqs } = (await import('fauxqs')) as typeof import('fauxqs');
  const server = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Creates a table from the shared definition (on-demand, as in the stack). Idempotent. */
export async function createTable(client: DynamoDBClient, def: TableDefinition, tableName: string) {
  const attributes = new Set([def.partitionKey, def.sortKey]);
  for (const gsi of def.globalSecondaryIndexes ?? []) {
    attributes.add(gsi.partitionKey);
    if (gsi.sortKey) attributes.add(gsi.sortKey);
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: def.partitionKey, KeyType: 'HASH' },
          { AttributeName: def.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: def.globalSecondaryIndexes?.map((gsi) => ({
          IndexName: gsi.indexName,
          KeySchema: [
            { AttributeName: gsi.partitionKey, KeyType: 'HASH' as const },
            ...(gsi.sortKey ? [{ AttributeName: gsi.sortKey, KeyType: 'RANGE' as const }] : []),
          ],
          Projection: { ProjectionType: 'ALL' as const },
        })),
      }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  // dynalite (createTableMs: 0) turns the table ACTIVE on a zero-delay timer, and answers
  // ResourceNotFoundException while it is CREATING: on a busy event loop (the test emulators serve every
  // jest worker) a request can come first. Wait for ACTIVE, as against DynamoDB.
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
  // No TTL set-up: dynalite has no UpdateTimeToLive, and correctness never depends on TTL deletion.
}
