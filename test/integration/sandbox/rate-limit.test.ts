import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { API_CLIENT, PAT_CLIENT, fetchToken, get } from './helpers';

const BETA = '/beta/personal-access-tokens';
const V3 = '/v3/search/identities/2c9180aa000000000000000000000001';

describe('sandbox rate limit', () => {
  let sandbox: Sandbox | undefined;
  afterEach(() => sandbox?.stop());

  it('answers 429 with Retry-After after `limit` requests, per client id and per API version', async () => {
    sandbox = await startSandbox({ rateLimit: { limit: 3, windowMs: 1500 } });
    const patToken = await fetchToken(sandbox, PAT_CLIENT);
    const apiToken = await fetchToken(sandbox, API_CLIENT);

    for (let i = 0; i < 3; i++) expect((await get(sandbox, BETA, patToken)).status).toBe(200);
    const limited = await get(sandbox, BETA, patToken);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ message: ' Rate Limit Exceeded ' });
    const retryAfter = limited.headers.get('retry-after');
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(2);

    // Same client, another API version: its own budget.
    for (let i = 0; i < 3; i++) expect((await get(sandbox, V3, patToken)).status).toBe(200);
    expect((await get(sandbox, V3, patToken)).status).toBe(429);
    // Another client, same version: its own budget.
    expect((await get(sandbox, V3, apiToken)).status).toBe(200);
    // A fresh token of the limited client does not reset its budget: the limit is per client id.
    expect((await get(sandbox, BETA, await fetchToken(sandbox, PAT_CLIENT))).status).toBe(429);

    expect(sandbox.requestLog.count({ status: 429, clientId: 'sandbox-pat-client' })).toBe(3);
  });

  it('lets requests through again once the window has moved on', async () => {
    sandbox = await startSandbox({ rateLimit: { limit: 2, windowMs: 200 } });
    const token = await fetchToken(sandbox);
    expect((await get(sandbox, V3, token)).status).toBe(200);
    expect((await get(sandbox, V3, token)).status).toBe(200);
    const limited = await get(sandbox, V3, token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await get(sandbox, V3, token)).status).toBe(200);
  });

  it('can be switched off', async () => {
    sandbox = await startSandbox({ rateLimit: false });
    const token = await fetchToken(sandbox);
    const statuses = await Promise.all(
      Array.from({ length: 120 }, () => get(sandbox!, V3, token).then((r) => r.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
  });

  it('applies the documented default of 100 requests per client and version', async () => {
    sandbox = await startSandbox();
    const token = await fetchToken(sandbox);
    const statuses = await Promise.all(
      Array.from({ length: 101 }, () => get(sandbox!, V3, token).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
  });
});
