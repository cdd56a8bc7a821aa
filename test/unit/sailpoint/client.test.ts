import { z } from 'zod';
import {
  SailPointAuthError,
  SailPointClient,
  SailPointError,
  SailPointNotFoundError,
  SailPointRateLimitError,
  SailPointResponseError,
  SailPointServerError,
  SailPointTimeoutError,
  SailPointValidationError,
  type SailPointClientOptions,
} from '../../../functions/shared/sailpoint';
import { CLIENT_ID, CLIENT_SECRET, FakeSailPoint, type Reply } from './fake-sailpoint';
import { rejection } from '../../support/async';

const ItemSchema = z.looseObject({ id: z.string() });
const ok = (json: unknown = { id: 'x' }): Reply => ({ status: 200, json });
const dto = (status: number, text: string, detailCode = `${status} Something`): Reply => ({
  status,
  json: {
    detailCode,
    trackingId: `track-${status}`,
    messages: [{ locale: 'en-US', localeOrigin: 'DEFAULT', text }],
    causes: [],
  },
});

let fake: FakeSailPoint;
let baseUrl: string;
let sleeps: number[];
let logs: { level: string; msg: string; extra?: object }[];
let clock: number;

beforeEach(async () => {
  fake = new FakeSailPoint();
  baseUrl = await fake.start();
  sleeps = [];
  logs = [];
  clock = 1_700_000_000_000;
});

afterEach(async () => {
  await fake.close();
});

function makeClient(overrides: Partial<SailPointClientOptions> = {}): SailPointClient {
  return new SailPointClient({
    apiUrl: baseUrl,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    timeoutMs: 2_000,
    // A fake clock advanced by the injected sleep: delays are observed, never waited for.
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    logger: {
      debug: (msg, extra) => logs.push({ level: 'debug', msg, extra }),
      warn: (msg, extra) => logs.push({ level: 'warn', msg, extra }),
    },
    ...overrides,
  });
}

const getItem = (client: SailPointClient, extra: Partial<Parameters<SailPointClient['send']>[0]> = {}) =>
  client.send({
    operation: 'getItem',
    method: 'GET',
    path: '/v3/items/1',
    responseSchema: ItemSchema,
    ...extra,
  });

const postItem = (client: SailPointClient, extra: { idempotent?: boolean } = {}) =>
  client.send({
    operation: 'createItem',
    method: 'POST',
    path: '/beta/items',
    body: { name: 'n' },
    responseSchema: ItemSchema,
    ...extra,
  });

describe('token handling', () => {
  it('fetches one client-credentials token and reuses it for many calls', async () => {
    fake.on('GET', '/v3/items/1', () => ok());
    const client = makeClient();

    for (let i = 0; i < 3; i++) await getItem(client);
    await Promise.all(Array.from({ length: 5 }, () => getItem(client)));

    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.apiRequests).toHaveLength(8);
    const tokenRequest = fake.tokenRequests[0]!;
    expect(tokenRequest.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(tokenRequest.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(fake.apiRequests.every((r) => r.headers.authorization === 'Bearer token-1')).toBe(true);
    expect(client.stats).toEqual({ httpRequests: 8, tokenRequests: 1, retries: 0 });
  });

  it('shares one in-flight token request between concurrent first callers', async () => {
    fake.tokenOptions = { delayMs: 50 };
    fake.on('GET', '/v3/items/1', () => ok());
    const client = makeClient();

    await Promise.all(Array.from({ length: 6 }, () => getItem(client)));

    expect(fake.tokenRequests).toHaveLength(1);
    expect(client.stats.tokenRequests).toBe(1);
  });

  it('refreshes the token shortly before it expires', async () => {
    fake.tokenOptions = { expiresIn: 749 };
    fake.on('GET', '/v3/items/1', () => ok());
    const client = makeClient();

    await getItem(client);
    clock += 600_000; // 151 s left: still cached
    await getItem(client);
    expect(fake.tokenRequests).toHaveLength(1);

    clock += 100_000; // 51 s left, inside the 60 s margin
    await getItem(client);
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.apiRequests.at(-1)!.headers.authorization).toBe('Bearer token-2');
  });

  it('on a 401 drops the token, fetches a new one and replays the call once', async () => {
    fake.on('GET', '/v3/items/1', () => ok({ id: 'after-refresh' }));
    const client = makeClient();
    await getItem(client);
    fake.validTokens.delete('token-1'); // revoked server-side

    await expect(getItem(client)).resolves.toEqual({ id: 'after-refresh' });

    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.apiRequests.map((r) => r.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-1',
      'Bearer token-2',
    ]);
    expect(sleeps).toEqual([]);
  });

  it('a POST rejected with 401 is replayed after the refresh too (the server did not act on it)', async () => {
    fake.on('POST', '/beta/items', () => ok({ id: 'created' }));
    const client = makeClient();
    await client.tokenInfo();
    fake.validTokens.clear();

    await expect(postItem(client)).resolves.toEqual({ id: 'created' });
    expect(fake.apiRequests).toHaveLength(2);
  });

  it('gives up with SailPointAuthError when the fresh token is rejected as well', async () => {
    fake.on('GET', '/v3/items/1', () => ({ status: 401, json: { error: 'JWT validation failed' } }));
    fake.validTokens.add('token-1').add('token-2');
    const client = makeClient();

    const error = await rejection(getItem(client));

    expect(error).toBeInstanceOf(SailPointAuthError);
    expect((error as SailPointAuthError).status).toBe(401);
    expect(error.message).toContain('rejected even after a refresh');
    expect(fake.apiRequests).toHaveLength(2);
    expect(fake.tokenRequests).toHaveLength(2);
  });

  it('wrong credentials: SailPointAuthError naming the client id, never the secret, not retried', async () => {
    const client = new SailPointClient({
      apiUrl: baseUrl,
      clientId: 'wrong-client',
      clientSecret: 'Wr0ng-S3cret-value',
      sleep: async (ms) => void sleeps.push(ms),
    });

    const error = await rejection(getItem(client));

    expect(error).toBeInstanceOf(SailPointAuthError);
    expect(error.message).toContain("client id 'wrong-client'");
    expect(error.message).toContain('invalid_client');
    expect(error.message).not.toContain('Wr0ng-S3cret-value');
    expect(JSON.stringify(error)).not.toContain('Wr0ng-S3cret-value');
    expect(String(error.stack)).not.toContain('Wr0ng-S3cret-value');
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.apiRequests).toHaveLength(0);
  });

  it('retries a token endpoint 5xx even for a POST (nothing was sent to the API yet)', async () => {
    let calls = 0;
    fake.tokenHandler = () =>
      ++calls === 1
        ? dto(503, 'token service unavailable')
        : { status: 200, json: { access_token: 'late-token', expires_in: 749 } };
    fake.validTokens.add('late-token');
    fake.on('POST', '/beta/items', () => ok({ id: 'created' }));
    const client = makeClient();

    await expect(postItem(client)).resolves.toEqual({ id: 'created' });
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.apiRequests).toHaveLength(1);
    expect(sleeps).toHaveLength(1);
  });

  it('tokenInfo: no identity for a pure API client, identity and authorities for a PAT', async () => {
    const apiClient = makeClient();
    const info = await apiClient.tokenInfo();
    expect(info).toEqual({
      identityId: undefined,
      tenantId: 'tenant-123',
      authorities: [],
      scopes: ['sp:scopes:all'], // the token response's space-separated `scope`
      clientId: CLIENT_ID,
      expiresAt: clock + 749_000,
    });

    fake.tokenOptions = { identityId: 'identity-42', authorities: ['ORG_ADMIN'] };
    const patClient = makeClient();
    await expect(patClient.tokenInfo()).resolves.toMatchObject({
      identityId: 'identity-42',
      authorities: ['ORG_ADMIN'],
    });
    expect(fake.tokenRequests).toHaveLength(2);
  });

  it('tokenInfo falls back to the JWT claims when the token response lacks them', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    fake.tokenOptions = {
      makeToken: () =>
        `${b64({ alg: 'none' })}.${b64({ identity_id: 'id-jwt', authorities: ['API'], client_id: 'jwt-client' })}.sig`,
    };
    const info = await makeClient().tokenInfo();
    expect(info).toMatchObject({ identityId: 'id-jwt', authorities: ['API'], clientId: 'jwt-client' });
  });

  it('a token response without access_token is a SailPointResponseError', async () => {
    fake.tokenHandler = () => ({ status: 200, json: { token_type: 'bearer', expires_in: 749 } });
    const error = await rejection(makeClient().tokenInfo());
    expect(error).toBeInstanceOf(SailPointResponseError);
    expect(error.message).toContain('access_token');
  });
});

describe('error mapping', () => {
  it('400: SailPointValidationError with detailCode, trackingId and message texts; not retried', async () => {
    fake.on('GET', '/v3/items/1', () => ({
      status: 400,
      json: {
        detailCode: '400.1 Bad Request Content',
        trackingId: 'e7eab60924f64aa284175b9fa3309599',
        messages: [
          { locale: 'en-US', localeOrigin: 'DEFAULT', text: 'The request was semantically invalid.' },
        ],
        causes: [{ locale: 'en-US', localeOrigin: 'DEFAULT', text: 'filters: unsupported operator' }],
        somethingNew: true,
      },
    }));
    const error = (await rejection(getItem(makeClient()))) as SailPointValidationError;

    expect(error).toBeInstanceOf(SailPointValidationError);
    expect(error).toBeInstanceOf(SailPointError);
    expect(error.name).toBe('SailPointValidationError');
    expect(error).toMatchObject({
      operation: 'getItem',
      status: 400,
      retryable: false,
      detailCode: '400.1 Bad Request Content',
      trackingId: 'e7eab60924f64aa284175b9fa3309599',
      messages: ['The request was semantically invalid.'],
      causes: ['filters: unsupported operator'],
    });
    for (const part of [
      'getItem',
      'GET /v3/items/1',
      'HTTP 400',
      '400.1 Bad Request Content',
      'e7eab609',
      'semantically invalid',
    ]) {
      expect(error.message).toContain(part);
    }
    expect(fake.apiRequests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('400 with a non-JSON body is still a SailPointValidationError with a short snippet', async () => {
    fake.on('GET', '/v3/items/1', () => ({ status: 400, raw: '<html>Bad   Request</html>' }));
    const error = (await rejection(getItem(makeClient()))) as SailPointValidationError;
    expect(error).toBeInstanceOf(SailPointValidationError);
    expect(error.messages).toEqual([]);
    expect(error.message).toContain('<html>Bad Request</html>');
  });

  it('404: SailPointNotFoundError, not retried', async () => {
    fake.on('GET', '/v3/items/1', () =>
      dto(404, 'The server did not find a current representation', '404 Not found'),
    );
    const error = await rejection(getItem(makeClient()));
    expect(error).toBeInstanceOf(SailPointNotFoundError);
    expect(error).toMatchObject({ status: 404, detailCode: '404 Not found', trackingId: 'track-404' });
    expect(fake.apiRequests).toHaveLength(1);
  });

  it('403: SailPointAuthError without a token refresh', async () => {
    fake.on('GET', '/v3/items/1', () =>
      dto(403, 'The server understood the request but refuses to authorize it.'),
    );
    const error = await rejection(getItem(makeClient()));
    expect(error).toBeInstanceOf(SailPointAuthError);
    expect(error.message).toContain('refuses to authorize');
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.apiRequests).toHaveLength(1);
  });

  it('a 2xx body that does not match the schema is a SailPointResponseError, not retried', async () => {
    fake.on('GET', '/v3/items/1', () => ok({ id: 42 }));
    const error = (await rejection(getItem(makeClient()))) as SailPointResponseError;
    expect(error).toBeInstanceOf(SailPointResponseError);
    expect(error.issues).toEqual([{ path: 'id', message: expect.stringContaining('expected string') }]);
    expect(error.message).toContain('id:');
    expect(fake.apiRequests).toHaveLength(1);
  });

  it('a 2xx body that is not JSON is a SailPointResponseError', async () => {
    fake.on('GET', '/v3/items/1', () => ({ status: 200, raw: 'not json' }));
    await expect(getItem(makeClient())).rejects.toBeInstanceOf(SailPointResponseError);
  });

  it('unknown fields are tolerated and kept', async () => {
    fake.on('GET', '/v3/items/1', () => ok({ id: 'x', brandNewField: { nested: 1 } }));
    await expect(getItem(makeClient())).resolves.toEqual({ id: 'x', brandNewField: { nested: 1 } });
  });

  it('an empty body (204) is parsed as undefined against the schema', async () => {
    fake.on('DELETE', '/beta/items/1', () => ({ status: 204 }));
    fake.on('POST', '/beta/items', () => ({ status: 202 }));
    const client = makeClient();
    await expect(
      client.send({
        operation: 'deleteItem',
        method: 'DELETE',
        path: '/beta/items/1',
        responseSchema: z.undefined(),
      }),
    ).resolves.toBeUndefined();
    // An empty 202 against a schema that requires an object fails loudly rather than inventing data.
    await expect(postItem(client)).rejects.toBeInstanceOf(SailPointResponseError);
  });
});

describe('retries', () => {
  it('429 waits exactly Retry-After seconds, then succeeds', async () => {
    fake.sequence(
      'GET',
      '/v3/items/1',
      { status: 429, json: { message: ' Rate Limit Exceeded ' }, headers: { 'Retry-After': '3' } },
      ok(),
    );
    const client = makeClient();
    await expect(getItem(client)).resolves.toEqual({ id: 'x' });
    expect(sleeps).toEqual([3000]);
    expect(client.stats.retries).toBe(1);
  });

  it('caps Retry-After at maxRetryAfterSeconds', async () => {
    fake.sequence('GET', '/v3/items/1', { status: 429, headers: { 'Retry-After': '120' } }, ok());
    await getItem(makeClient({ retry: { maxRetryAfterSeconds: 5 } }));
    expect(sleeps).toEqual([5000]);
  });

  it('429 without Retry-After falls back to the exponential backoff', async () => {
    fake.sequence('GET', '/v3/items/1', { status: 429 }, { status: 429 }, ok());
    await getItem(makeClient({ retry: { baseDelayMs: 100, maxDelayMs: 400 } }));
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(400);
    }
  });

  it('429 exhausted: SailPointRateLimitError carrying retryAfterSeconds', async () => {
    fake.on('GET', '/v3/items/1', () => ({ status: 429, headers: { 'Retry-After': '2' } }));
    const error = (await rejection(
      getItem(makeClient({ retry: { maxAttempts: 3 } })),
    )) as SailPointRateLimitError;
    expect(error).toBeInstanceOf(SailPointRateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 2, hasRetryAfter: true, retryable: true });
    expect(error.message).toContain('Retry-After 2 s');
    expect(sleeps).toEqual([2000, 2000]);
    expect(fake.apiRequests).toHaveLength(3);
  });

  it('5xx is retried with jittered exponential backoff, then succeeds', async () => {
    fake.sequence('GET', '/v3/items/1', dto(503, 'unavailable'), dto(500, 'internal fault'), ok());
    const client = makeClient({ retry: { baseDelayMs: 200, maxDelayMs: 1_000 } });
    await expect(getItem(client)).resolves.toEqual({ id: 'x' });
    expect(fake.apiRequests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(1_000);
    expect(client.stats.retries).toBe(2);
  });

  it('5xx exhausted: the last SailPointServerError after maxAttempts', async () => {
    fake.on('GET', '/v3/items/1', () => dto(502, 'bad gateway', '500.0 Internal Fault'));
    const error = await rejection(getItem(makeClient({ retry: { maxAttempts: 4 } })));
    expect(error).toBeInstanceOf(SailPointServerError);
    expect(error).toMatchObject({
      status: 502,
      trackingId: 'track-502',
      retryable: true,
      outcomeUnknown: true,
    });
    expect(fake.apiRequests).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    expect(logs.some((l) => l.level === 'warn' && l.msg === 'SailPoint call failed')).toBe(true);
  });

  it('stops when the next delay would exceed maxElapsedMs', async () => {
    fake.on('GET', '/v3/items/1', () => ({ status: 429, headers: { 'Retry-After': '10' } }));
    const error = await rejection(getItem(makeClient({ retry: { maxAttempts: 10, maxElapsedMs: 25_000 } })));
    expect(error).toBeInstanceOf(SailPointRateLimitError);
    expect(sleeps).toEqual([10_000, 10_000]);
    expect(fake.apiRequests).toHaveLength(3);
  });

  it('per-attempt timeout: SailPointTimeoutError after the attempts', async () => {
    fake.on('GET', '/v3/items/1', () => ({ status: 200, hang: true }));
    const client = makeClient({ timeoutMs: 100, retry: { maxAttempts: 2 } });
    const error = await rejection(getItem(client));
    expect(error).toBeInstanceOf(SailPointTimeoutError);
    expect(error.message).toContain('no response within 100 ms');
    expect((error as SailPointTimeoutError).status).toBeUndefined();
    expect(fake.apiRequests).toHaveLength(2);
  });

  it('a dropped connection is a SailPointTimeoutError and is retried for a GET', async () => {
    fake.sequence('GET', '/v3/items/1', { status: 200, drop: true }, ok());
    await expect(getItem(makeClient())).resolves.toEqual({ id: 'x' });
    expect(fake.apiRequests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('a POST is NOT retried on 5xx: the caller must reconcile first', async () => {
    fake.on('POST', '/beta/items', () => dto(500, 'An internal fault occurred.'));
    const error = await rejection(postItem(makeClient()));
    expect(error).toBeInstanceOf(SailPointServerError);
    expect((error as SailPointServerError).outcomeUnknown).toBe(true);
    expect(fake.apiRequests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('a POST is NOT retried after a timeout', async () => {
    fake.on('POST', '/beta/items', () => ({ status: 200, hang: true }));
    const error = await rejection(postItem(makeClient({ timeoutMs: 100 })));
    expect(error).toBeInstanceOf(SailPointTimeoutError);
    expect(fake.apiRequests).toHaveLength(1);
  });

  it('a POST IS retried on 429', async () => {
    fake.sequence(
      'POST',
      '/beta/items',
      { status: 429, headers: { 'Retry-After': '1' } },
      ok({ id: 'created' }),
    );
    await expect(postItem(makeClient())).resolves.toEqual({ id: 'created' });
    expect(fake.apiRequests).toHaveLength(2);
    expect(sleeps).toEqual([1000]);
  });

  it('a POST marked idempotent is retried on 5xx', async () => {
    fake.sequence('POST', '/beta/items', dto(503, 'unavailable'), ok({ id: 'created' }));
    await expect(postItem(makeClient(), { idempotent: true })).resolves.toEqual({ id: 'created' });
    expect(fake.apiRequests).toHaveLength(2);
  });
});

describe('requests', () => {
  it('encodes the filters query value with URLSearchParams (%20 for spaces) and skips undefined values', async () => {
    fake.on('GET', '/beta/personal-access-tokens', () => ok([]));
    await makeClient().send({
      operation: 'listPersonalAccessTokens',
      method: 'GET',
      path: '/beta/personal-access-tokens',
      query: {
        filters: 'lastUsed le 2023-02-05T10:59:27.214Z',
        'owner-id': undefined,
        limit: 10,
        count: true,
      },
      responseSchema: z.array(z.unknown()),
    });
    const request = fake.apiRequests[0]!;
    expect(request.rawUrl).toBe(
      '/beta/personal-access-tokens?filters=lastUsed%20le%202023-02-05T10%3A59%3A27.214Z&limit=10&count=true',
    );
    expect(request.query.get('filters')).toBe('lastUsed le 2023-02-05T10:59:27.214Z');
    expect(request.query.has('owner-id')).toBe(false);
  });

  it("keeps a literal '+' (time-zone offset) distinct from a space", async () => {
    fake.on('GET', '/v3/items', () => ok([]));
    await makeClient().send({
      operation: 'listItems',
      method: 'GET',
      path: '/v3/items',
      query: { filters: 'created gt 2023-02-05T10:59:27+01:00 and name co "a&b"' },
      responseSchema: z.array(z.unknown()),
    });
    expect(fake.apiRequests[0]!.query.get('filters')).toBe(
      'created gt 2023-02-05T10:59:27+01:00 and name co "a&b"',
    );
    expect(fake.apiRequests[0]!.rawUrl).toContain('%2B01%3A00');
  });

  it('sends JSON bodies with a bearer token; PATCH defaults to application/json-patch+json', async () => {
    fake.on('POST', '/beta/items', () => ok());
    fake.on('PATCH', '/beta/items/1', () => ok());
    const client = makeClient();
    await postItem(client);
    await client.send({
      operation: 'patchItem',
      method: 'PATCH',
      path: '/beta/items/1',
      body: [{ op: 'replace', path: '/name', value: 'x' }],
      responseSchema: ItemSchema,
    });
    const [post, patch] = fake.apiRequests;
    expect(post!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(post!.body)).toEqual({ name: 'n' });
    expect(post!.headers.authorization).toBe('Bearer token-1');
    expect(patch!.headers['content-type']).toBe('application/json-patch+json');
  });

  it('client-side rate limit spaces API calls (maxRequests per perMs)', async () => {
    const seen: number[] = [];
    fake.on('GET', '/v3/items/1', () => {
      seen.push(Date.now());
      return ok();
    });
    const client = makeClient({ rateLimit: { maxRequests: 2, perMs: 100 } });
    const started = Date.now();
    await Promise.all([getItem(client), getItem(client), getItem(client)]);
    expect(seen).toHaveLength(3);
    expect(seen[1]! - started).toBeLessThan(90);
    expect(seen[2]! - started).toBeGreaterThanOrEqual(90);
  });

  it('refuses a relative path', async () => {
    await expect(
      makeClient().send({ operation: 'x', method: 'GET', path: 'v3/items', responseSchema: z.unknown() }),
    ).rejects.toThrow("path must start with '/'");
  });
});

describe('secrets never leak', () => {
  it('neither logs nor error messages contain the client secret or any access token', async () => {
    fake.tokenOptions = { makeToken: (n) => `eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.secret-token-${n}` };
    fake.sequence(
      'GET',
      '/v3/items/1',
      dto(503, 'unavailable'),
      // A server echoing credentials into an error text must not get them into our messages.
      { status: 404, json: { messages: [{ text: `token was Bearer abc.def and ${CLIENT_SECRET}` }] } },
    );
    const client = makeClient();
    await client.tokenInfo();
    fake.validTokens.clear(); // force the 401 refresh path
    fake.validTokens.add(`eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.secret-token-2`);

    const error = await rejection(getItem(client));
    expect(error).toBeInstanceOf(SailPointNotFoundError);

    const wrongCredentials = new SailPointClient({
      apiUrl: baseUrl,
      clientId: CLIENT_ID,
      clientSecret: `${CLIENT_SECRET}-wrong`,
      logger: {
        debug: (msg, extra) => logs.push({ level: 'debug', msg, extra }),
        warn: (msg, extra) => logs.push({ level: 'warn', msg, extra }),
      },
    });
    const authError = await rejection(getItem(wrongCredentials));
    expect(authError).toBeInstanceOf(SailPointAuthError);

    const everything = JSON.stringify(logs) + error.message + authError.message;
    expect(logs.length).toBeGreaterThan(5); // the capture works: there is something to inspect
    expect(everything).toContain('getItem');
    expect(everything).not.toContain(CLIENT_SECRET);
    expect(everything).not.toContain('secret-token');
    expect(everything).not.toContain('abc.def');
    for (const token of fake.issuedTokens) expect(everything).not.toContain(token);
    expect(error.message).toContain('Bearer [redacted]');
  });
});
