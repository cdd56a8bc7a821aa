/**
 * A tiny scriptable SailPoint stand-in on 127.0.0.1:0 for the client tests (the full sandbox tenant
 * lives in sandbox/). Token endpoint built in; API routes answered by per-test handlers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CLIENT_ID = 'test-client-id';
export const CLIENT_SECRET = 'S3cr3t-do-not-leak-4f9a';

export interface RecordedRequest {
  method: string;
  /** Raw request target, e.g. '/beta/personal-access-tokens?filters=…' (not decoded). */
  rawUrl: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Reply {
  status: number;
  /** Serialized as JSON unless `raw` is given. */
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Never answer (the client must time out). */
  hang?: boolean;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Wait before answering. */
  delayMs?: number;
}

export type Handler = (req: RecordedRequest) => Reply | Promise<Reply>;

export interface TokenOptions {
  expiresIn?: number;
  identityId?: string | null;
  authorities?: string[];
  /** Build the access token (default 'token-N'). */
  makeToken?: (n: number) => string;
  /** Extra fields merged into the token response. */
  extra?: Record<string, unknown>;
  delayMs?: number;
}

export class FakeSailPoint {
  readonly requests: RecordedRequest[] = [];
  readonly issuedTokens: string[] = [];
  /** Tokens the API accepts; remove one to simulate revocation/expiry. */
  readonly validTokens = new Set<string>();
  tokenOptions: TokenOptions = {};
  /** When set, answers /oauth/token instead of the built-in behaviour. */
  tokenHandler?: Handler;
  private readonly routes = new Map<string, Handler>();
  private server?: Server;

  get apiRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path !== '/oauth/token');
  }

  get tokenRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/oauth/token');
  }

  /** Route handler for `METHOD /path` (exact path, query ignored). */
  on(method: string, path: string, handler: Handler): this {
    this.routes.set(`${method} ${path}`, handler);
    return this;
  }

  /** Answers with `replies` in order; the last one repeats. */
  sequence(method: string, path: string, ...replies: Reply[]): this {
    let i = 0;
    return this.on(method, path, () => replies[Math.min(i++, replies.length - 1)]!);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      rawUrl: req.url ?? '/',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(recorded);

    let reply: Reply;
    if (recorded.path === '/oauth/token') {
      reply = this.tokenHandler ? await this.tokenHandler(recorded) : this.issueToken(recorded);
    } else {
      const handler = this.routes.get(`${recorded.method} ${recorded.path}`);
      const auth = recorded.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
      if (!this.validTokens.has(token)) {
        reply = { status: 401, json: { error: 'JWT validation failed: JWT is expired' } };
      } else if (!handler) {
        reply = { status: 404, json: { detailCode: '404 Not found', messages: [{ text: 'no such route' }] } };
      } else {
        reply = await handler(recorded);
      }
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (reply.hang) return;
    if (reply.drop) {
      req.socket.destroy();
      return;
    }
    const body = reply.raw ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
    res.writeHead(reply.status, {
      ...(reply.json !== undefined && reply.raw === undefined ? { 'content-type': 'application/json' } : {}),
      ...reply.headers,
    });
    res.end(body);
  }

  private issueToken(req: RecordedRequest): Reply {
    const form = new URLSearchParams(req.body);
    if (
      req.method !== 'POST' ||
      form.get('grant_type') !== 'client_credentials' ||
      form.get('client_id') !== CLIENT_ID ||
      form.get('client_secret') !== CLIENT_SECRET
    ) {
      return { status: 401, json: { error: 'invalid_client', error_description: 'Bad client credentials' } };
    }
    const options = this.tokenOptions;
    const n = this.issuedTokens.length + 1;
    const token = options.makeToken?.(n) ?? `token-${n}`;
    this.issuedTokens.push(token);
    this.validTokens.add(token);
    return {
      status: 200,
      delayMs: options.delayMs,
      json: {
        access_token: token,
        token_type: 'bearer',
        expires_in: options.expiresIn ?? 749,
        scope: 'sp:scopes:all',
        tenant_id: 'tenant-123',
        pod: 'stg01-useast1',
        org: 'acme',
        internal: true,
        ...(options.identityId ? { identity_id: options.identityId } : {}),
        ...(options.authorities ? { authorities: options.authorities } : {}),
        jti: `jti-${n}`,
        ...options.extra,
      },
    };
  }
}
