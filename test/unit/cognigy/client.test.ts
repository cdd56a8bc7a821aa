import { z } from 'zod';
import {
  CognigyAuthError,
  CognigyClient,
  CognigyError,
  CognigyRateLimitError,
  CognigyResponseError,
  CognigyServerError,
  CognigyTimeoutError,
  listOwnApiKeys,
  type CognigyClientOptions,
} from '../../../functions/shared/cognigy';

const API_KEY = 'sk-test-0123456789abcdef-SECRET';
const BASE = 'https://api-trial.cognigy.ai/new';

interface Seen {
  url: string;
  headers: Record<string, string>;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'drop';

/** A fetch that answers from a script and records what it was sent. */
function scriptedFetch(replies: Reply[]) {
  const seen: Seen[] = [];
  const fetchImpl = (async (input: string | URL, init?: RequestInit) => {
    seen.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
    const reply = replies.shift();
    if (!reply) throw new Error('script exhausted');
    if (reply === 'drop') throw new TypeError('fetch failed');
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
    return new Response(text, { status: reply.status, headers: reply.headers });
  }) as typeof fetch;
  return { fetchImpl, seen };
}

function client(replies: Reply[], options: Partial<CognigyClientOptions> = {}) {
  const { fetchImpl, seen } = scriptedFetch(replies);
  const delays: number[] = [];
  const warnings: { msg: string; extra?: object }[] = [];
  const c = new CognigyClient({
    apiUrl: BASE,
    apiKey: API_KEY,
    fetch: fetchImpl,
    sleep: async (ms) => void delays.push(ms),
    rateLimit: false,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
    logger: { debug: () => {}, warn: (msg, extra) => void warnings.push({ msg, extra }) },
    ...options,
  });
  return { c, seen, delays, warnings };
}

const problem = (status: number, traceId = `api--t${status}`, extra: object = {}) => ({
  type: 'X',
  title: `Title ${status}`,
  status,
  detail: `Detail ${status}`,
  code: status,
  traceId,
  ...extra,
});

const ok = { status: 200, body: { a: 1 }, headers: { 'x-trace-id': 'api--ok' } };
const get = (c: CognigyClient) =>
  c.get({ operation: 'op', path: '/v2.0/thing', responseSchema: z.object({ a: z.number() }) });

describe('CognigyClient', () => {
  it('sends X-API-Key and Accept: application/json to the /new base, and returns the traceId', async () => {
    const { c, seen } = client([ok]);
    await expect(get(c)).resolves.toEqual({ data: { a: 1 }, traceId: 'api--ok' });
    expect(seen[0]).toEqual({
      url: `${BASE}/v2.0/thing`,
      headers: { Accept: 'application/json', 'X-API-Key': API_KEY },
    });
  });

  it('turns a 401 problem into CognigyAuthError with traceId and code, without retrying', async () => {
    const { c, seen } = client([{ status: 401, body: problem(401, 'api--401') }]);
    const error = await get(c).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognigyAuthError);
    expect(error).toMatchObject({
      status: 401,
      traceId: 'api--401',
      problem: { code: '401', title: 'Title 401' },
    });
    expect((error as Error).message).toContain('(traceId api--401)');
    expect(seen).toHaveLength(1);
  });

  it('waits exactly Retry-After on a 429, then succeeds', async () => {
    const { c, delays, seen } = client([
      { status: 429, body: problem(429), headers: { 'retry-after': '7' } },
      ok,
    ]);
    await expect(get(c)).resolves.toMatchObject({ data: { a: 1 } });
    expect(delays).toEqual([7000]);
    expect(seen).toHaveLength(2);
    expect(c.stats).toEqual({ httpRequests: 2, retries: 1 });
  });

  it('gives up at once when Retry-After is beyond the bound, keeping retryAfterSeconds and traceId', async () => {
    const { c, delays, seen } = client([
      { status: 429, body: problem(429, 'api--rl'), headers: { 'retry-after': '300' } },
    ]);
    const error = (await get(c).catch((e: unknown) => e)) as CognigyRateLimitError;
    expect(error).toBeInstanceOf(CognigyRateLimitError);
    expect(error).toMatchObject({ retryAfterSeconds: 300, traceId: 'api--rl', retryable: true });
    expect(delays).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  it.each([408, 500, 502, 503, 504])('retries %i with bounded backoff', async (status) => {
    const { c, delays } = client([{ status, body: problem(status) }, { status, body: problem(status) }, ok]);
    await expect(get(c)).resolves.toMatchObject({ data: { a: 1 } });
    expect(delays).toHaveLength(2);
    for (const d of delays) expect(d).toBeLessThanOrEqual(100);
  });

  it('stops after maxAttempts and throws the last error with its traceId (logged as a warning)', async () => {
    const { c, seen, warnings } = client(
      [1, 2, 3, 4].map((i) => ({ status: 503, body: problem(503, `api--${i}`) })),
      { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } },
    );
    const error = await get(c).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognigyServerError);
    expect(error).toMatchObject({ traceId: 'api--3' });
    expect(seen).toHaveLength(3);
    expect(warnings[0]?.extra).toMatchObject({ traceId: 'api--3', attempts: 3 });
  });

  it('stops when the elapsed-time budget would be exceeded', async () => {
    let t = 0;
    const rateLimited = { status: 429, body: problem(429), headers: { 'retry-after': '5' } };
    const { c, seen } = client([rateLimited, rateLimited, ok], {
      retry: { maxElapsedMs: 8000 },
      now: () => t,
      sleep: async (ms) => void (t += ms),
    });
    // 5 s fits in 8 s; after it, another 5 s would not.
    await expect(get(c)).rejects.toBeInstanceOf(CognigyRateLimitError);
    expect(seen).toHaveLength(2);
  });

  it('retries a dropped connection as a timeout error', async () => {
    const { c } = client(['drop', ok]);
    await expect(get(c)).resolves.toMatchObject({ data: { a: 1 } });
    const failing = client(['drop'], { retry: { maxAttempts: 1 } });
    await expect(get(failing.c)).rejects.toBeInstanceOf(CognigyTimeoutError);
  });

  it('does not retry a 403 or a 404', async () => {
    for (const status of [403, 404]) {
      const { c, seen } = client([{ status, body: problem(status) }, ok]);
      await expect(get(c)).rejects.toBeInstanceOf(CognigyError);
      expect(seen).toHaveLength(1);
    }
  });

  it('takes the traceId from the header when the error body is not a problem', async () => {
    const { c } = client(
      [{ status: 502, body: '<html>bad gateway</html>', headers: { 'x-trace-id': 'api--hdr' } }],
      {
        retry: { maxAttempts: 1 },
      },
    );
    const error = await get(c).catch((e: unknown) => e);
    expect(error).toMatchObject({ traceId: 'api--hdr' });
    expect((error as Error).message).toContain('bad gateway');
  });

  it('never echoes the API key, even when the server puts it in the error', async () => {
    const { c } = client([
      { status: 401, body: problem(401, 'api--x', { detail: `key ${API_KEY} is invalid` }) },
    ]);
    const error = (await get(c).catch((e: unknown) => e)) as CognigyError;
    expect(error.message).not.toContain(API_KEY);
    expect(JSON.stringify(error.toLog())).not.toContain(API_KEY);
    expect(error.message).toContain('[redacted]');
  });

  it('reports a body that does not match the schema as CognigyResponseError (no values)', async () => {
    const { c } = client([{ status: 200, body: { a: 'not a number' } }]);
    const error = (await get(c).catch((e: unknown) => e)) as CognigyResponseError;
    expect(error).toBeInstanceOf(CognigyResponseError);
    expect(error.issues[0]?.path).toBe('a');
    expect(error.message).not.toContain('not a number');
  });

  it('hints at the /new prefix when a base URL without it gets a 404', async () => {
    const { c } = client([{ status: 404, body: problem(404) }], { apiUrl: 'https://api-trial.cognigy.ai' });
    await expect(get(c)).rejects.toThrow('lack the /new prefix?');
  });

  it('rejects plain http to a remote host, and accepts the loopback sandbox', () => {
    expect(() => new CognigyClient({ apiUrl: 'http://cognigy.example.com/new', apiKey: 'k' })).toThrow(
      /https/,
    );
    expect(
      () => new CognigyClient({ apiUrl: 'http://127.0.0.1:1234/new/', apiKey: 'k', rateLimit: false }),
    ).not.toThrow();
  });
});

describe('listOwnApiKeys', () => {
  it('uses v2.1, follows cursors, and keeps no plaintext key even if the server sends one', async () => {
    const { c, seen } = client([
      {
        status: 200,
        body: {
          items: [{ _id: 'k1', name: 'a', createdAt: 100, apiKey: 'PLAINTEXT-1' }],
          total: 2,
          nextCursor: 'c2',
        },
      },
      {
        status: 200,
        body: { items: [{ _id: 'k2', createdAt: 200, key: 'PLAINTEXT-2' }], total: 2, nextCursor: null },
      },
    ]);
    const { keys } = await listOwnApiKeys(c);
    expect(keys).toEqual([
      { id: 'k1', name: 'a', createdAt: 100, keyPreview: undefined },
      { id: 'k2', name: undefined, createdAt: 200, keyPreview: undefined },
    ]);
    expect(JSON.stringify(keys)).not.toContain('PLAINTEXT');
    expect(seen.map((s) => new URL(s.url).pathname)).toEqual([
      '/new/v2.1/users/me/apikeys',
      '/new/v2.1/users/me/apikeys',
    ]);
    expect(new URL(seen[1]!.url).searchParams.get('next')).toBe('c2');
  });
});
