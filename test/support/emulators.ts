/**
 * Per-test access to the emulators started by global-setup.js.
 * Names are unique per call so parallel workers and tests never share state.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTable, localDynamoClient } from '../../local/emulators';
import { TABLES, type TableKey } from '../../functions/shared/tables';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: is test/support/global-setup.js configured in jest?`);
  return value;
}

export const dynamoEndpoint = () => required('DYNAMODB_ENDPOINT');
export const sqsEndpoint = () => required('SQS_ENDPOINT');

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Creates a fresh table from the shared definition and returns its name and a document client. */
export async function freshTable(key: TableKey) {
  const client = localDynamoClient(dynamoEndpoint());
  const tableName = uniqueName(TABLES[key].logicalId);
  await createTable(client, TABLES[key], tableName);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { tableName, client, doc };
}

export function localSqsClient(): SQSClient {
  return new SQSClient({
    endpoint: sqsEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Creates a queue with a dead-letter queue (redrive after maxReceiveCount receives). */
export async function freshQueueWithDlq(sqs: SQSClient, maxReceiveCount = 3, visibilityTimeout = 30) {
  const dlqName = uniqueName('dlq');
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: dlqName }));
  const dlqArn = `arn:aws:sqs:us-east-1:000000000000:${dlqName}`;
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('queue'),
      Attributes: {
        VisibilityTimeout: String(visibilityTimeout),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: main.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}
