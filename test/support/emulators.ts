/**
 * Per-test access to the emulators started by global-setup.js.
 * Names are unique per call so parallel workers and tests never share state.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { createTable, localDynamoClient } from '../../local/emulators';
import { receiveAll as receiveEveryMessage } from '../../local/queue-poller';
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

/** Sends bodies (objects JSON-encoded) in order, in SendMessageBatch calls of 10; returns their message ids. */
export async function sendBodies(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly unknown[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const chunk = bodies.slice(i, i + 10);
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((body, index) => ({
          Id: String(index),
          MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
        })),
      }),
    );
    if (result.Failed?.length) throw new Error(`send failed: ${JSON.stringify(result.Failed)}`);
    const byEntry = new Map((result.Successful ?? []).map((s) => [Number(s.Id), s.MessageId!]));
    chunk.forEach((_, index) => ids.push(byEntry.get(index)!));
  }
  return ids;
}

/** Every message now on the queue, with its message attributes (each hidden for 60 s once read). */
export function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  return receiveEveryMessage(sqs, queueUrl, 60);
}

export function localSnsClient(): SNSClient {
  return new SNSClient({
    endpoint: sqsEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * A fresh SNS topic on fauxqs with a queue subscribed to it (raw delivery: each message body is the
 * published Message), and a count of the SNS commands `sns` sends.
 */
export async function freshTopic(sns: SNSClient = localSnsClient()) {
  const sqs = localSqsClient();
  const topic = await sns.send(new CreateTopicCommand({ Name: uniqueName('topic') }));
  const queueName = uniqueName('subscriber');
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
  await sns.send(
    new SubscribeCommand({
      TopicArn: topic.TopicArn!,
      Protocol: 'sqs',
      Endpoint: `arn:aws:sqs:us-east-1:000000000000:${queueName}`,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  const commands: string[] = [];
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return {
    sns,
    topicArn: topic.TopicArn!,
    /** SNS commands sent through `sns` since the topic was made, e.g. ['PublishBatchCommand']. */
    commands,
    /** Every message delivered to the subscribed queue so far (parsed JSON bodies). */
    async delivered(): Promise<Record<string, unknown>[]> {
      return (await receiveAll(sqs, queue.QueueUrl!)).map((m) => JSON.parse(m.Body ?? '{}'));
    },
  };
}
