/** The invocation deadline over the wire: long Retry-After waits from the sandbox end at the deadline. */
import {
  SailPointClient,
  SailPointDeadlineError,
  SailPointRateLimitError,
  searchIdentityAccess,
} from '../../../functions/shared/sailpoint';
import { DEFAULT_SEED_IDS } from '../../../sandbox/seed';
import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { PAT_CLIENT } from '../sandbox/helpers';

const { identities } = DEFAULT_SEED_IDS;

describe('SailPoint client deadline against the sandbox', () => {
  let sandbox: Sandbox;
  afterEach(() => sandbox.stop());

  it('a 429 with a long Retry-After (fault) ends the call at once with SailPointDeadlineError, not after the wait', async () => {
    sandbox = await startSandbox();
    sandbox.faults.inject({ method: 'POST', path: '/v3/search', status: 429, retryAfterSeconds: 120 });
    const client = new SailPointClient({ apiUrl: sandbox.url, ...PAT_CLIENT });
    const started = Date.now();
    const scoped = client.withDeadline(started + 5_000);
    const error = await searchIdentityAccess(scoped, [identities.ceo]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SailPointDeadlineError);
    expect((error as SailPointDeadlineError).waitMs).toBe(60_000); // capped at maxRetryAfterSeconds
    expect((error as SailPointDeadlineError).cause).toBeInstanceOf(SailPointRateLimitError);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sandbox.requestLog.count({ method: 'POST', path: '/v3/search' })).toBe(1);
  });

  it("the gateway's own rate limit: calls beyond the budget end at the deadline, those within it succeed", async () => {
    sandbox = await startSandbox({ rateLimit: { limit: 2, windowMs: 60_000 } });
    const client = new SailPointClient({ apiUrl: sandbox.url, ...PAT_CLIENT });
    const started = Date.now();
    const scoped = client.withDeadline(started + 3_000);
    const results = await Promise.allSettled(
      [identities.ceo, identities.intern, identities.iamAdmin].map((id) =>
        searchIdentityAccess(scoped, [id]),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const [failed] = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed!.reason).toBeInstanceOf(SailPointDeadlineError);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
