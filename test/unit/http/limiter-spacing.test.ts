/**
 * The client-side budget spaces calls evenly instead of letting a refreshed budget out in one burst:
 * the gateway counts a sliding window, in which several instances' bursts at each refresh would add
 * up to more than their shares (issue #9: < 1 % of calls answered 429 under the real limit).
 */
import { ResilientHttp, ServiceCallError } from '../../../functions/shared/http';

class FakeError extends ServiceCallError {}

describe('client-side budget', () => {
  it('lets calls out evenly spaced (perMs / maxRequests apart), not in a burst', async () => {
    const http = new ResilientHttp<FakeError>(
      {
        service: 'Fake',
        errorType: FakeError,
        retryAfterSeconds: () => undefined,
        longRetryAfter: 'cap',
        failureLogFields: () => ({}),
        stats: { retries: 0 },
      },
      { rateLimit: { maxRequests: 10, perMs: 1_000 } },
      {
        retry: {
          maxAttempts: 1,
          maxElapsedMs: 1_000,
          baseDelayMs: 1,
          maxDelayMs: 1,
          maxRetryAfterSeconds: 1,
        },
        timeoutMs: 1_000,
      },
    );
    const started: number[] = [];
    await Promise.all(Array.from({ length: 4 }, () => http.limited(async () => started.push(Date.now()))));
    // Ten a second, and all four were allowed by the budget: still at least 100 ms apart (a slow
    // machine only spreads them further).
    for (let i = 1; i < started.length; i++) expect(started[i]! - started[i - 1]!).toBeGreaterThanOrEqual(95);
  });
});
