import {
  ResilientHttp,
  ServiceCallError,
  nameErrorClasses,
  parseRetryAfter,
  type HttpOptions,
  type NoResponse,
  type RetryRules,
} from '../../../functions/shared/http';
import { failing } from '../../support/async';

/** A client's own errors, as SailPointError / CognigyError are. */
class FakeError extends ServiceCallError {
  constructor(
    status: number | undefined,
    retryable: boolean,
    readonly retryAfterSeconds?: number,
  ) {
    super(`fake ${status}`, { operation: 'op', status }, retryable);
  }
}
nameErrorClasses({ FakeError });
const transient = (status = 503) => new FakeError(status, true);
const rateLimited = (retryAfterSeconds?: number) => new FakeError(429, true, retryAfterSeconds);

const RETRY = {
  maxAttempts: 4,
  maxElapsedMs: 60_000,
  baseDelayMs: 100,
  maxDelayMs: 400,
  maxRetryAfterSeconds: 10,
};

function setup(options: HttpOptions = {}, rules: Partial<RetryRules<FakeError>> = {}) {
  let clock = 1_000_000;
  const sleeps: number[] = [];
  const logs: { level: string; msg: string; extra?: object }[] = [];
  const stats = { retries: 0 };
  const http = new ResilientHttp<FakeError>(
    {
      service: 'Fake',
      errorType: FakeError,
      retryAfterSeconds: (error) => error.retryAfterSeconds,
      longRetryAfter: 'cap',
      failureLogFields: (error, operation, attempts) => ({ operation, attempts, status: error.status }),
      stats,
      ...rules,
    },
    {
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      logger: {
        debug: (msg, extra) => logs.push({ level: 'debug', msg, extra }),
        warn: (msg, extra) => logs.push({ level: 'warn', msg, extra }),
      },
      rateLimit: false,
      ...options,
    },
    { retry: RETRY, timeoutMs: 1_000 },
  );
  return { http, sleeps, logs, stats };
}

describe('ResilientHttp.withRetry', () => {
  it('retries retryable errors of the client type with bounded backoff, counting retries', async () => {
    const { http, sleeps, stats, logs } = setup();
    const { fn, attempts } = failing(transient(), transient(500));
    await expect(http.withRetry('op', fn)).resolves.toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(RETRY.maxDelayMs);
    }
    expect(stats.retries).toBe(2);
    expect(logs.filter((l) => l.msg === 'Fake retrying')[0]?.extra).toMatchObject({
      operation: 'op',
      attempt: 1,
      status: 503,
      error: 'FakeError',
    });
  });

  it('does not retry non-retryable errors, nor errors of another type', async () => {
    for (const error of [new FakeError(404, false), new Error('boom'), 'a string']) {
      const { http, sleeps } = setup();
      const { fn, attempts } = failing(error);
      await expect(http.withRetry('op', fn)).rejects.toBe(error);
      expect(attempts).toEqual([1]);
      expect(sleeps).toEqual([]);
    }
  });

  it('stops after maxAttempts and throws the last error, logged as a warning when transient', async () => {
    const { http, logs } = setup();
    const errors = [transient(500), transient(502), transient(503), transient(504), transient()];
    const { fn, attempts } = failing(...errors);
    await expect(http.withRetry('op', fn)).rejects.toBe(errors[3]);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(logs.at(-1)).toEqual({
      level: 'warn',
      msg: 'Fake call failed',
      extra: { operation: 'op', attempts: 4, status: 504 },
    });
  });

  it('logs a final non-transient error at debug level only', async () => {
    const { http, logs } = setup();
    await expect(http.withRetry('op', failing(new FakeError(400, false)).fn)).rejects.toThrow('fake 400');
    expect(logs.map((l) => `${l.level} ${l.msg}`)).toEqual(['debug Fake call failed']);
  });

  it('waits exactly Retry-After, and caps it at maxRetryAfterSeconds with longRetryAfter "cap"', async () => {
    const { http, sleeps } = setup();
    await http.withRetry('op', failing(rateLimited(3), rateLimited(120)).fn);
    expect(sleeps).toEqual([3_000, 10_000]);
  });

  it('gives up at once on a Retry-After beyond the bound with longRetryAfter "give-up"', async () => {
    const { http, sleeps, logs } = setup(
      {},
      { longRetryAfter: 'give-up', logFields: () => ({ traceId: 't-1' }) },
    );
    const tooLong = rateLimited(11);
    const { fn, attempts } = failing(rateLimited(10), tooLong);
    await expect(http.withRetry('op', fn)).rejects.toBe(tooLong);
    expect(attempts).toEqual([1, 2]);
    expect(sleeps).toEqual([10_000]);
    expect(logs.find((l) => l.msg === 'Fake Retry-After beyond bound, not retrying')?.extra).toEqual({
      operation: 'op',
      attempt: 2,
      retryAfterSeconds: 11,
      traceId: 't-1',
    });
  });

  it('falls back to the backoff for a 429 without Retry-After', async () => {
    const { http, sleeps } = setup();
    await http.withRetry('op', failing(rateLimited(undefined)).fn);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeLessThanOrEqual(RETRY.maxDelayMs);
  });

  it('does not start a retry whose delay would exceed the elapsed-time budget', async () => {
    const { http, sleeps, logs } = setup({ retry: { maxElapsedMs: 15_000 } });
    const third = rateLimited(6);
    const { fn, attempts } = failing(rateLimited(6), rateLimited(6), third);
    // 6 s + 6 s fit in 15 s; a third 6 s would not.
    await expect(http.withRetry('op', fn)).rejects.toBe(third);
    expect(attempts).toEqual([1, 2, 3]);
    expect(sleeps).toEqual([6_000, 6_000]);
    expect(logs.find((l) => l.msg === 'Fake retry budget exhausted')?.extra).toEqual({
      operation: 'op',
      attempt: 3,
      elapsedMs: 12_000,
      delayMs: 6_000,
    });
  });

  it('lets the client veto a retry per request (mayRetry)', async () => {
    const { http } = setup();
    const serverError = transient(500);
    const { fn, attempts } = failing(rateLimited(1), serverError);
    await expect(http.withRetry('op', fn, (error) => error.status === 429)).rejects.toBe(serverError);
    expect(attempts).toEqual([1, 2]);
  });
});

describe('ResilientHttp options', () => {
  const rules: RetryRules<FakeError> = {
    service: 'Fake',
    errorType: FakeError,
    retryAfterSeconds: () => undefined,
    longRetryAfter: 'cap',
    failureLogFields: () => ({}),
    stats: { retries: 0 },
  };
  const make = (options: HttpOptions) =>
    new ResilientHttp(rules, options, { retry: RETRY, timeoutMs: 1_000 });

  it('merges retry options over the defaults and refuses bad ones, naming the service', () => {
    expect(make({ retry: { maxAttempts: 2 } }).retryOptions).toEqual({ ...RETRY, maxAttempts: 2 });
    expect(() => make({ retry: { maxAttempts: 0 } })).toThrow(
      'Fake retry.maxAttempts must be an integer >= 1',
    );
    expect(() => make({ retry: { maxDelayMs: -1 } })).toThrow(
      'Fake retry delays and budgets must be numbers >= 0.',
    );
    expect(() => make({ timeoutMs: 0 })).toThrow('Fake timeoutMs must be > 0');
    expect(() => make({ rateLimit: { maxRequests: 0, perMs: 1_000 } })).toThrow(
      'Fake rateLimit needs maxRequests >= 1 and perMs > 0.',
    );
  });

  it('applies the default rate budget unless the caller turns it off', async () => {
    const budget = { maxRequests: 1, perMs: 150 };
    const timed = async (http: ResilientHttp<FakeError>) => {
      const started = Date.now();
      await Promise.all([http.limited(async () => 1), http.limited(async () => 2)]);
      return Date.now() - started;
    };
    const limited = new ResilientHttp(rules, {}, { retry: RETRY, timeoutMs: 1_000, rateLimit: budget });
    const unlimited = new ResilientHttp(
      rules,
      { rateLimit: false },
      { retry: RETRY, timeoutMs: 1_000, rateLimit: budget },
    );
    expect(await timed(limited)).toBeGreaterThanOrEqual(100);
    expect(await timed(unlimited)).toBeLessThan(100);
  });
});

describe('ResilientHttp.fetchOnce', () => {
  const toError = (failure: NoResponse) => Object.assign(new Error(failure.detail), { failure });

  it('returns status, headers and body text, without following redirects', async () => {
    let seen: RequestInit | undefined;
    const fetch = (async (_url: string | URL, init?: RequestInit) => {
      seen = init;
      return new Response('moved', { status: 302, headers: { location: '/elsewhere' } });
    }) as typeof globalThis.fetch;
    const { http } = setup({ fetch });
    const result = await http.fetchOnce('http://127.0.0.1/x', { method: 'GET' }, toError);
    expect(result.status).toBe(302);
    expect(result.text).toBe('moved');
    expect(result.headers.get('location')).toBe('/elsewhere');
    expect(seen).toMatchObject({ method: 'GET', redirect: 'manual' });
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
  });

  it('classifies an attempt that outlives the timeout', async () => {
    const fetch = ((_url: string | URL, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof globalThis.fetch;
    const { http } = setup({ fetch, timeoutMs: 30 });
    const error = await http.fetchOnce('http://127.0.0.1/x', {}, toError).catch((e: unknown) => e);
    expect(error).toMatchObject({
      message: 'no response within 30 ms',
      failure: { timedOut: true, networkCode: undefined },
    });
  });

  it('classifies a failed or dropped connection, with the network code when there is one', async () => {
    const dropped = new TypeError('fetch failed', {
      cause: Object.assign(new Error('socket'), { code: 'ECONNRESET' }),
    });
    const fetch = (async () => {
      throw dropped;
    }) as typeof globalThis.fetch;
    const { http } = setup({ fetch });
    const error = await http.fetchOnce('http://127.0.0.1/x', {}, toError).catch((e: unknown) => e);
    expect(error).toMatchObject({
      message: 'connection failed or dropped before a response',
      failure: { timedOut: false, networkCode: 'ECONNRESET', cause: dropped },
    });
  });
});

describe('parseRetryAfter', () => {
  const headers = (value?: string) => new Headers(value === undefined ? {} : { 'retry-after': value });
  const now = Date.parse('2024-05-01T10:00:00Z');

  it('reads delta-seconds and HTTP dates (rounded up, never negative)', () => {
    expect(parseRetryAfter(headers(' 7 '), now)).toBe(7);
    expect(parseRetryAfter(headers('Wed, 01 May 2024 10:00:30 GMT'), now)).toBe(30);
    expect(parseRetryAfter(headers('Wed, 01 May 2024 09:00:00 GMT'), now)).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(headers(), now)).toBeUndefined();
    expect(parseRetryAfter(headers(''), now)).toBeUndefined();
    expect(parseRetryAfter(headers('soon'), now)).toBeUndefined();
  });
});
