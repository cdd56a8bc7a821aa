/**
 * A loopback AWS Secrets Manager for tests: the AWS JSON 1.1 protocol's GetSecretValue and
 * PutSecretValue (what the functions and a rotation do), so the real SDK client and Powertools
 * Parameters run unchanged against it. There is no Secrets Manager emulator on npm that works
 * offline; this one is small and counts reads, so a test can see when a secret was read again.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';

export interface LocalSecretsManager {
  readonly endpoint: string;
  /** Creates or rotates a secret (a new version). */
  put(secretId: string, value: unknown): void;
  /** GetSecretValue calls for the secret so far. */
  reads(secretId: string): number;
  /** A Powertools provider whose SDK client talks to this server. */
  provider(): SecretsProvider;
  stop(): Promise<void>;
}

export async function startSecretsManager(): Promise<LocalSecretsManager> {
  const secrets = new Map<string, { text: string; versionId: string }>();
  const readCount = new Map<string, number>();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const input = JSON.parse(body || '{}') as { SecretId?: string; SecretString?: string };
      const reply = (status: number, json: object, errorType?: string) => {
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
        });
        response.end(JSON.stringify(json));
      };
      const id = input.SecretId ?? '';
      if (target === 'secretsmanager.GetSecretValue') {
        readCount.set(id, (readCount.get(id) ?? 0) + 1);
        const secret = secrets.get(id);
        if (!secret) {
          reply(
            400,
            {
              __type: 'ResourceNotFoundException',
              message: "Secrets Manager can't find the specified secret.",
            },
            'ResourceNotFoundException',
          );
          return;
        }
        reply(200, {
          ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`,
          Name: id,
          SecretString: secret.text,
          VersionId: secret.versionId,
          VersionStages: ['AWSCURRENT'],
        });
      } else if (target === 'secretsmanager.PutSecretValue') {
        secrets.set(id, { text: input.SecretString ?? '', versionId: randomUUID() });
        reply(200, { Name: id, VersionId: secrets.get(id)!.versionId });
      } else {
        reply(400, { __type: 'UnknownOperationException', message: target }, 'UnknownOperationException');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    put: (secretId, value) =>
      secrets.set(secretId, {
        text: typeof value === 'string' ? value : JSON.stringify(value),
        versionId: randomUUID(),
      }),
    reads: (secretId) => readCount.get(secretId) ?? 0,
    provider: () =>
      new SecretsProvider({
        awsSdkV3Client: new SecretsManagerClient({
          endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
      }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
