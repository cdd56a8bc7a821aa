import { z } from 'zod';
import {
  SailPointClient,
  SailPointDeadlineError,
  SailPointRateLimitError,
  SailPointServerError,
  SailPointTimeoutError,
  type SailPointClientOptions,
} from '../../../functions/shared/sailpoint';
import { CLIENT_ID, CLIENT_SECRET, FakeSailPoint, type Reply } from './fake-sailpoint';
import { rejection } from '../../support/async';

const ItemSchema = z.looseObject({ id: z.string() });
const ok = (): Reply => ({ status: 200, json: { id: 'x' } });
const unavailable = (): Reply => ({ status: 503, json: { detailCode: '503', messages: [], causes: [] } });

let fake: FakeSailPoint;
let baseUrl: string;
let sleeps: number[];
let clock: number;

beforeEach(async () => {
  fake = new FakeSailPoint();
  baseUrl = await fake.start();
  sleeps = [];
  clock = 1_700_000_000_000;
});
afterEach(() => fake.close());

/** On a fake clock the injected sleep advances: waits are observed, never waited for. */
function makeClient(overrides: Partial<SailPointClientOptions> = {}): SailPointClient {
  return new SailPointClient({
    apiUrl: baseUrl,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...overrides,
  });
}
const call = (client: { send: SailPointClient['send'] }, method: 'GET' | 'POST', deadline?: number) =>
  client.send({
    operation: method === 'GET' ? 'getItem' : 'createItem',
    method,
    path: method === 'GET' ? '/v3/items/1' : '/beta/items',
    ...(method === 'POST' ? { body: { name: 'n' } } : {}),
    responseSchema: ItemSchema,
    ...(deadline === undefined ? {} : { deadline }),
  });

describe('SailPoint client: the deadline reaches every wait', () => {
  it('a 429 whose Retry-After ends after the deadline: SailPointDeadlineError at once, nothing re-sent', async () => {
    fake.on('POST', '/beta/items', () => ({ status: 429, headers: { 'Retry-After': '30' } }));
    const error = (await rejection(call(makeClient(), 'POST', clock + 10_000))) as SailPointDeadlineError;
    expect(error).toBeInstanceOf(SailPointDeadlineError);
    expect(error).toMatchObject({ outcomeUnknown: false, retryable: true, waitMs: 30_000 });
    expect(error.cause).toBeInstanceOf(SailPointRateLimitError);
    expect(error.message).toMatch(/SailPoint createItem failed: .*deadline/);
    expect(fake.apiRequests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('the same 429 within the deadline is waited out and retried', async () => {
    fake.sequence('POST', '/beta/items', { status: 429, headers: { 'Retry-After': '3' } }, ok());
    await expect(call(makeClient(), 'POST', clock + 10_000)).resolves.toEqual({ id: 'x' });
    expect(sleeps).toEqual([3_000]);
  });

  it('keeps POST semantics: a 5xx is never re-sent, and is not turned into a deadline error', async () => {
    fake.sequence('POST', '/beta/items', unavailable(), ok());
    const error = await rejection(call(makeClient(), 'POST', clock + 600_000));
    expect(error).toBeInstanceOf(SailPointServerError);
    expect(error).toMatchObject({ outcomeUnknown: true });
    expect(fake.apiRequests).toHaveLength(1);
  });

  it('a GET retried after 5xx stops with SailPointDeadlineError when the next backoff would pass the deadline', async () => {
    fake.on('GET', '/v3/items/1', unavailable);
    const client = makeClient({ retry: { baseDelayMs: 2_000, maxDelayMs: 2_000, maxAttempts: 10 } });
    const started = clock;
    const error = await rejection(call(client, 'GET', started + 5_500));
    expect(error).toBeInstanceOf(SailPointDeadlineError);
    expect(error.cause).toBeInstanceOf(SailPointServerError);
    expect(fake.apiRequests.length).toBeLessThan(10);
    expect(clock).toBeLessThanOrEqual(started + 5_500 - 1_000);
  });

  it('withDeadline bounds every call of a scope, and nothing is sent once it has passed', async () => {
    fake.on('GET', '/v3/items/1', ok);
    const client = makeClient();
    const scoped = client.withDeadline(clock + 60_000);
    await expect(call(scoped, 'GET')).resolves.toEqual({ id: 'x' });
    clock += 59_500;
    const error = (await rejection(call(scoped, 'GET'))) as SailPointDeadlineError;
    expect(error).toBeInstanceOf(SailPointDeadlineError);
    expect(error.cause).toBeUndefined();
    // A call's own, earlier deadline wins; the unscoped client is not bounded.
    expect(await rejection(call(client.withDeadline(clock + 600_000), 'GET', clock))).toBeInstanceOf(
      SailPointDeadlineError,
    );
    await expect(call(client, 'GET')).resolves.toEqual({ id: 'x' });
    expect(fake.apiRequests).toHaveLength(2);
  });

  it('an attempt in flight is cut at the deadline: for a POST a timeout with unknown outcome', async () => {
    fake.on('POST', '/beta/items', () => ({ status: 202, json: { id: 'x' }, delayMs: 5_000 }));
    const client = makeClient({ now: Date.now, sleep: undefined, timeoutMs: 10_000 });
    const started = Date.now();
    const error = await rejection(call(client, 'POST', Date.now() + 1_300));
    expect(error).toBeInstanceOf(SailPointTimeoutError);
    expect(error).toMatchObject({ outcomeUnknown: true });
    expect(error.message).toContain("the call's deadline");
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('the wait for the client-side rate budget ends at the deadline, without sending', async () => {
    fake.on('GET', '/v3/items/1', ok);
    const client = makeClient({ now: Date.now, rateLimit: { maxRequests: 1, perMs: 60_000 } });
    await call(client, 'GET');
    const error = await rejection(call(client, 'GET', Date.now() + 1_200));
    expect(error).toBeInstanceOf(SailPointDeadlineError);
    expect(error.message).toContain('rate budget');
    expect(fake.apiRequests).toHaveLength(1);
  });

  it('a token request that does not arrive before the deadline fails the call with SailPointDeadlineError', async () => {
    fake.tokenOptions = { delayMs: 5_000 };
    fake.on('GET', '/v3/items/1', ok);
    const client = makeClient({ now: Date.now, timeoutMs: 10_000 });
    const started = Date.now();
    const error = await rejection(call(client, 'GET', Date.now() + 1_300));
    expect(error).toBeInstanceOf(SailPointDeadlineError); // no API call was sent
    expect(error.message).toContain('access token did not arrive');
    expect(fake.apiRequests).toHaveLength(0);
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
