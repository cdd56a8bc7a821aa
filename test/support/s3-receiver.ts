/**
 * A loopback HTTP server that takes S3 PutObject requests (path style, as the SDK sends them to an
 * IP endpoint) and keeps what it received, so the real S3Client can be tested over the wire where
 * no S3 emulator exists. Point the SDK at it with AWS_ENDPOINT_URL_S3. `failWith` answers every
 * request with an S3-style error instead.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedObject {
  readonly bucket: string;
  readonly key: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export async function startS3Receiver() {
  const objects: ReceivedObject[] = [];
  let failure: { status: number; code: string } | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (failure) {
        response.writeHead(failure.status, { 'Content-Type': 'application/xml' });
        response.end(
          `<?xml version="1.0"?><Error><Code>${failure.code}</Code><Message>refused</Message></Error>`,
        );
        return;
      }
      const [bucket, ...key] = new URL(request.url!, 'http://x').pathname.slice(1).split('/');
      if (request.method !== 'PUT') {
        response.writeHead(405).end();
        return;
      }
      objects.push({
        bucket: bucket!,
        key: decodeURIComponent(key.join('/')),
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { ETag: `"${objects.length}"` }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    objects,
    failWith: (status: number, code: string) => void (failure = { status, code }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
