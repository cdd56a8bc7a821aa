import { DEFAULT_SEED_IDS } from '../../../sandbox/seed';
import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { expectErrorResponseDto, fetchToken, get } from './helpers';

const PAT_ID = DEFAULT_SEED_IDS.personalAccessTokens.neverUsedOld;
const PAT_PATH = `/beta/personal-access-tokens/${PAT_ID}`;
const V3 = '/v3/search/identities/2c9180aa000000000000000000000001';

describe('sandbox fault injection', () => {
  let sandbox: Sandbox;
  let token: string;
  let draws: number[];

  beforeEach(async () => {
    draws = [];
    sandbox = await startSandbox({ random: () => draws.shift() ?? 0.99 });
    token = await fetchToken(sandbox);
  });
  afterEach(() => sandbox.stop());

  const del = () => get(sandbox, PAT_PATH, token, { method: 'DELETE' });

  it('answers the injected status N times, with an ErrorResponseDto, then lets requests through', async () => {
    sandbox.faults.inject({ method: 'DELETE', path: PAT_PATH, status: 503, times: 2 });
    for (let i = 0; i < 2; i++) {
      const response = await del();
      expect(response.status).toBe(503);
      expectErrorResponseDto(await response.json(), '503.0 Service Unavailable');
      expect(sandbox.state.personalAccessTokens.has(PAT_ID)).toBe(true);
    }
    expect((await del()).status).toBe(204);
    expect(sandbox.state.personalAccessTokens.has(PAT_ID)).toBe(false);
  });

  it('uses the given body and Retry-After, and the 429 shape by default', async () => {
    sandbox.faults.inject({ path: V3, status: 429, retryAfterSeconds: 3 });
    const limited = await get(sandbox, V3, token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.json()).toEqual({ message: ' Rate Limit Exceeded ' });

    sandbox.faults.inject({ path: V3, status: 500, body: { detailCode: 'custom' } });
    const custom = await get(sandbox, V3, token);
    expect(custom.status).toBe(500);
    expect(await custom.json()).toEqual({ detailCode: 'custom' });
  });

  it('matches by method and by path pattern, and keeps an Infinity rule until cleared', async () => {
    sandbox.faults.inject({ method: 'GET', path: /^\/v3\/search\//, status: 502, times: Infinity });
    expect((await del()).status).toBe(204); // DELETE does not match
    for (let i = 0; i < 3; i++) expect((await get(sandbox, V3, token)).status).toBe(502);
    sandbox.faults.clear();
    expect((await get(sandbox, V3, token)).status).toBe(200);
  });

  it('drops the connection without a response and without changing state', async () => {
    sandbox.faults.inject({ method: 'DELETE', path: PAT_PATH, dropConnection: true });
    await expect(del()).rejects.toThrow();
    expect(sandbox.state.personalAccessTokens.has(PAT_ID)).toBe(true);
    expect(sandbox.requestLog.filter({ path: PAT_PATH })).toEqual([
      expect.objectContaining({ method: 'DELETE', status: 0, fault: true }),
    ]);
    expect((await del()).status).toBe(204);
  });

  it('delays a request, which then reaches its route', async () => {
    sandbox.faults.inject({ path: V3, latencyMs: 150 });
    const started = performance.now();
    const response = await get(sandbox, V3, token);
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(sandbox.requestLog.filter({ path: V3 })).toEqual([
      expect.objectContaining({ status: 200, fault: true }),
    ]);
  });

  it('delays, then answers the injected status', async () => {
    sandbox.faults.inject({ method: 'DELETE', path: PAT_PATH, latencyMs: 100, status: 504 });
    const started = performance.now();
    expect((await del()).status).toBe(504);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(sandbox.state.personalAccessTokens.has(PAT_ID)).toBe(true);
  });

  it('faults only the requests the probability draw selects, without using up times on a miss', async () => {
    sandbox.faults.inject({ path: V3, status: 500, probability: 0.5, times: 1 });
    draws.push(0.7, 0.2, 0.1);
    expect((await get(sandbox, V3, token)).status).toBe(200); // 0.7: miss
    expect((await get(sandbox, V3, token)).status).toBe(500); // 0.2: hit, rule used up
    expect((await get(sandbox, V3, token)).status).toBe(200);
  });

  it('applies before authentication and to the token endpoint too', async () => {
    sandbox.faults.inject({ path: '/oauth/token', status: 500 });
    await expect(fetchToken(sandbox)).rejects.toThrow(/500/);
    expect(await fetchToken(sandbox)).toEqual(expect.any(String));
  });

  it('rejects rules that cannot work', () => {
    expect(() => sandbox.faults.inject({ path: V3 })).toThrow(RangeError);
    expect(() => sandbox.faults.inject({ status: 500, probability: 2 })).toThrow(RangeError);
    expect(() => sandbox.faults.inject({ status: 500, times: 0 })).toThrow(RangeError);
    expect(() => sandbox.faults.inject({ status: 99 })).toThrow(RangeError);
  });
});
