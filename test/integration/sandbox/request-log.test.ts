import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { fetchToken, get } from './helpers';

const AT = new Date('2025-06-01T12:00:00.000Z');

describe('sandbox request log', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ now: () => AT });
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.requestLog.clear());

  it('records every request with method, path, query, status, client, API version and time', async () => {
    const token = await fetchToken(sandbox);
    await get(sandbox, '/beta/personal-access-tokens?owner-id=me&filters=lastUsed%20isnull', token);
    await get(sandbox, '/v3/search/identities/unknown', token);
    await get(sandbox, '/beta/personal-access-tokens');

    expect(sandbox.requestLog.entries).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/oauth/token',
        status: 200,
        clientId: 'sandbox-pat-client',
      }),
      {
        method: 'GET',
        path: '/beta/personal-access-tokens',
        query: { 'owner-id': 'me', filters: 'lastUsed isnull' },
        status: 200,
        clientId: 'sandbox-pat-client',
        apiVersion: 'beta',
        at: AT,
        durationMs: expect.any(Number),
      },
      expect.objectContaining({ path: '/v3/search/identities/unknown', status: 404, apiVersion: 'v3' }),
      expect.not.objectContaining({ clientId: expect.anything() }),
    ]);
    expect(sandbox.requestLog.entries[3]).toMatchObject({ status: 401, apiVersion: 'beta' });
    expect(sandbox.requestLog.entries[0]).not.toHaveProperty('apiVersion');
  });

  it('counts by method, exact path or pattern, and status', async () => {
    const token = await fetchToken(sandbox);
    await get(sandbox, '/beta/personal-access-tokens', token);
    await get(sandbox, '/beta/personal-access-tokens?filters=bad', token);
    await get(sandbox, '/beta/personal-access-tokens/nope', token, { method: 'DELETE' });
    await get(sandbox, '/v3/search/identities/2c9180aa000000000000000000000001', token);

    const log = sandbox.requestLog;
    expect(log.count()).toBe(5);
    expect(log.count({ method: 'GET' })).toBe(3);
    expect(log.count({ method: 'delete', status: 404 })).toBe(1);
    expect(log.count({ path: '/beta/personal-access-tokens' })).toBe(2);
    expect(log.count({ path: /^\/beta\// })).toBe(3);
    expect(log.count({ path: /^\/beta\//, status: 400 })).toBe(1);
    expect(log.count({ apiVersion: 'v3' })).toBe(1);

    log.clear();
    expect(log.count()).toBe(0);
    expect(log.entries).toHaveLength(0);
  });

  it('records requests to unknown routes', async () => {
    await get(sandbox, '/nowhere?x=1');
    expect(sandbox.requestLog.entries).toEqual([
      expect.objectContaining({ method: 'GET', path: '/nowhere', query: { x: '1' }, status: 404 }),
    ]);
  });
});
