import {
  DeadlineExceededError,
  ResilientHttp,
  ServiceCallError,
  nameErrorClasses,
  type HttpOptions,
  type NoResponse,
} from '../../../functions/shared/http';
import { failing, rejection } from '../../support/async';

class FakeError extends ServiceCallError {
  constructor(
    status: number | undefined,
    readonly retryAfterSeconds?: number,
  ) {
    super(`fake ${status}`, { operation: 'op', status }, true);
  }
}
nameErrorClasses({ FakeError });

const RETRY = {
  maxAttempts: 5,
  maxElapsedMs: 600_000,
  baseDelayMs: 1_000,
  maxDelayMs: 4_000,
  maxRetryAfterSeconds: 60,
};

/** A ResilientHttp on a fake clock that the injected sleep advances (waits observed, never waited). */
function setup(options: HttpOptions = {}) {
  const clock = { now: 1_000_000 };
  const sleeps: number[] = [];
  const http = new ResilientHttp<FakeError>(
    {
      service: 'Fake',
      errorType: FakeError,
      retryAfterSeconds: (error) => error.retryAfterSeconds,
      longRetryAfter: 'cap',
      failureLogFields: () => ({}),
      stats: { retries: 0 },
    },
    {
      now: () => clock.now,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.now += ms;
      },
      rateLimit: false,
      ...options,
    },
    { retry: RETRY, timeoutMs: 10_000 },
  );
  return { http, clock, sleeps };
}

describe('ResilientHttp with a deadline', () => {
  it('does not start a retry whose Retry-After wait ends after the deadline: a deadline error, at once', async () => {
    const { http, clock, sleeps } = setup();
    const limited = new FakeError(429, 30);
    const { fn, attempts } = failing(limited);
    const error = await rejection(http.withRetry('op', fn, undefined, clock.now + 20_000));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ operation: 'op', waitMs: 30_000, retryable: true, cause: limited });
    expect(error.message).toMatch(/Fake op: not sent before its deadline/);
    expect(attempts).toEqual([1]);
    expect(sleeps).toEqual([]);
  });

  it('keeps every backoff wait and the next attempt within the deadline', async () => {
    const { http, clock, sleeps } = setup();
    const started = clock.now;
    const deadline = started + 5_000;
    const { fn, attempts } = failing(...Array.from({ length: 5 }, () => new FakeError(503)));
    const error = await rejection(http.withRetry('op', fn, undefined, deadline));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).cause).toBeInstanceOf(FakeError);
    expect(attempts.length).toBeLessThan(5);
    // Every attempt started with at least minAttemptMs (1 s) of the deadline left.
    expect(started + sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(deadline - 1_000);
  });

  it('leaves a refused retry (mayRetry) to throw its own error, deadline or not', async () => {
    const { http, clock } = setup();
    const serverError = new FakeError(503);
    await expect(
      http.withRetry('op', failing(serverError).fn, () => false, clock.now + 1_000_000),
    ).rejects.toBe(serverError);
  });

  it('starts no attempt with less than minAttemptMs left', async () => {
    const { http, clock } = setup({ minAttemptMs: 2_000 });
    const { fn, attempts } = failing();
    await expect(http.withRetry('op', fn, undefined, clock.now + 1_999)).rejects.toBeInstanceOf(
      DeadlineExceededError,
    );
    expect(attempts).toEqual([]);
    await expect(http.withRetry('op', fn, undefined, clock.now + 2_000)).resolves.toBe('ok');
  });

  it('cuts an attempt in flight at the deadline, saying so', async () => {
    const fetch = ((_url: string, init: RequestInit) =>
      new Promise((_resolve, reject) =>
        init.signal!.addEventListener('abort', () => reject(init.signal!.reason)),
      )) as unknown as typeof globalThis.fetch;
    const { http } = setup({ fetch, now: Date.now, minAttemptMs: 10 });
    let failure: NoResponse | undefined;
    const error = await rejection(
      http.fetchOnce(
        'http://127.0.0.1:9/x',
        {},
        (f) => {
          failure = f;
          return new Error('no response');
        },
        { deadline: Date.now() + 150, operation: 'op' },
      ),
    );
    expect(error.message).toBe('no response');
    expect(failure).toMatchObject({ timedOut: true, deadline: true });
    expect(failure!.detail).toMatch(/no response within \d+ ms \(the call's deadline\)/);
  });

  it('ends a wait in the rate budget queue at the deadline; the queued job never runs its task', async () => {
    const { http } = setup({ now: Date.now, minAttemptMs: 10, rateLimit: { maxRequests: 1, perMs: 60_000 } });
    const ran: string[] = [];
    await http.limited(async () => ran.push('first'));
    const error = await rejection(
      http.limited(async () => ran.push('second'), { deadline: Date.now() + 100, operation: 'op' }),
    );
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.message).toMatch(/rate budget had no slot before the deadline/);
    expect(ran).toEqual(['first']);
  });
});
