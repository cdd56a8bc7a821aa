/**
 * AWS SDK clients, created once per Lambda instance and reused across invocations; while tracing is
 * on (POWERTOOLS_TRACE_ENABLED), each is captured by the Powertools Tracer (observability.ts).
 * Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables, which `npm start` and the
 * tests point at the loopback emulators; in AWS they are unset and the SDK uses the real endpoints.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient } from '@aws-sdk/client-sns';
import { traced } from './observability';

export function createDocumentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(traced(client), { marshallOptions: { removeUndefinedValues: true } });
}

// Address queues through the client's endpoint, not each QueueUrl's host: the same in AWS, and locally
// the emulator's URLs (http://sqs.us-east-1.127.0.0.1:PORT/…) are not WHATWG-parsable, which made the
// SDK print a TypeError warning on every SQS call.
export const createSqsClient = () => traced(new SQSClient({ useQueueUrlAsEndpoint: false }));
export const createSnsClient = () => traced(new SNSClient({}));
