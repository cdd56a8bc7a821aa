/**
 * AWS SDK clients, created once per Lambda instance (module scope) and reused across invocations.
 * Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables, which `npm start` and the
 * tests point at the loopback emulators; in AWS they are unset and the SDK uses the real endpoints.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient } from '@aws-sdk/client-sns';

export function createDocumentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export const createSqsClient = () => new SQSClient({});
export const createSnsClient = () => new SNSClient({});
