import { PutCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { freshQueueWithDlq, freshTable, localSqsClient } from '../support/emulators';

describe('local emulators', () => {
  it('dynalite honours conditional writes on tables built from the shared definitions', async () => {
    const { doc, tableName } = await freshTable('findings');
    await doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'a', sk: 'b', v: 1 } }));
    await expect(
      doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: 'a', sk: 'b', v: 2 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const got = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'a', sk: 'b' } }));
    expect(got.Item?.v).toBe(1);
  });

  it('fauxqs delivers a message sent over the SQS JSON protocol', async () => {
    const sqs = localSqsClient();
    const { queueUrl } = await freshQueueWithDlq(sqs);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'hello' }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(got.Messages?.map((m) => m.Body)).toEqual(['hello']);
  });
});
