import { DEFAULT_SEED_IDS } from '../../../sandbox/seed';
import { DEFAULT_SEARCH_LAG_MS, type Sandbox, startSandbox } from '../../../sandbox/server';
import { PAT_CLIENT, fetchToken, get, manualClock } from './helpers';

const { identities } = DEFAULT_SEED_IDS;
const MINUTE = 60_000;
const GITHUB_DEVELOPER = 'acce5500000000000000000000000003'; // requestable access profile
const NEWCOMER = '2c9180aa0000000000000000000000aa';

describe('sandbox Search indexing lag (sandbox clock)', () => {
  let sandbox: Sandbox;
  let token: string;
  let clock = manualClock('2030-03-01T09:00:00Z');
  afterEach(async () => sandbox?.stop());

  async function start(options: { searchLagMs?: number } = {}) {
    clock = manualClock('2030-03-01T09:00:00Z');
    sandbox = await startSandbox({ rateLimit: false, now: clock.now, ...options });
    token = await fetchToken(sandbox, PAT_CLIENT);
  }
  const document = async (id: string) => {
    const response = await get(sandbox, `/v3/search/identities/${id}`, token);
    return {
      status: response.status,
      body: (await response.json()) as { access?: { id: string }[]; modified?: string; accessCount?: number },
    };
  };
  const bulk = async (ids: string[]) => {
    const response = await fetch(`${sandbox.url}/v3/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ indices: ['identities'], query: { query: `id:(${ids.join(' OR ')})` } }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: string; access: { id: string }[] }[]).map((d) => ({
      id: d.id,
      access: d.access.map((a) => a.id),
    }));
  };
  /** POSTs an access request; the sandbox approves it (delay 0) before routing the next request. */
  const requestAccess = async (requestType: 'GRANT_ACCESS' | 'REVOKE_ACCESS', identityId: string) => {
    const response = await fetch(`${sandbox.url}/beta/access-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        requestedFor: [identityId],
        requestType,
        requestedItems: [{ type: 'ACCESS_PROFILE', id: GITHUB_DEVELOPER, comment: 'lag test' }],
      }),
    });
    expect(response.status).toBe(202);
  };

  it('is on by default (5 minutes), and seeded identities count as indexed long ago', async () => {
    await start();
    expect(DEFAULT_SEARCH_LAG_MS).toBe(5 * MINUTE);
    expect(sandbox.state.search.lagMs).toBe(DEFAULT_SEARCH_LAG_MS);
    const { status, body } = await document(identities.engineeringManager);
    expect(status).toBe(200);
    expect(body.accessCount).toBe(5);
  });

  it('shows a new identity only once its creation is older than the lag', async () => {
    await start({ searchLagMs: 2 * MINUTE });
    const template = sandbox.state.identities.get(identities.intern)!;
    sandbox.state.identities.set(NEWCOMER, {
      ...template,
      id: NEWCOMER,
      name: 'new.joiner',
      access: [],
      created: clock.now().toISOString(),
    });
    expect((await document(NEWCOMER)).status).toBe(404);
    expect((await bulk([NEWCOMER, identities.intern])).map((d) => d.id)).toEqual([identities.intern]);

    clock.advance(2 * MINUTE - 1);
    expect((await document(NEWCOMER)).status).toBe(404);
    clock.advance(1);
    expect((await document(NEWCOMER)).status).toBe(200);
    expect((await bulk([NEWCOMER])).map((d) => d.id)).toEqual([NEWCOMER]);
  });

  it('shows provisioned access after the lag, and moves `modified` when the document changes', async () => {
    await start({ searchLagMs: 3 * MINUTE });
    const before = await document(identities.intern);
    expect(before.body.access!.map((a) => a.id)).not.toContain(GITHUB_DEVELOPER);

    await requestAccess('GRANT_ACCESS', identities.intern);
    await get(sandbox, '/v3/search/roles/none', token); // any request: the approval (delay 0) is applied
    clock.advance(MINUTE);
    expect(sandbox.state.identities.get(identities.intern)!.access.map((a) => a.id)).toContain(
      GITHUB_DEVELOPER,
    );
    const stale = await document(identities.intern);
    expect(stale.body.access!.map((a) => a.id)).not.toContain(GITHUB_DEVELOPER);
    expect(stale.body.modified).toBe(before.body.modified);
    expect((await bulk([identities.intern]))[0]!.access).not.toContain(GITHUB_DEVELOPER);

    clock.advance(2 * MINUTE);
    const fresh = await document(identities.intern);
    expect(fresh.body.access!.map((a) => a.id)).toContain(GITHUB_DEVELOPER);
    expect(Date.parse(fresh.body.modified!)).toBeGreaterThan(Date.parse(before.body.modified!));
    expect(fresh.body.modified).toBe('2030-03-01T09:00:00.000Z'); // when the grant was provisioned
    expect((await bulk([identities.intern]))[0]!.access).toContain(GITHUB_DEVELOPER);

    // A revoke: Search keeps showing the access for the lag.
    await requestAccess('REVOKE_ACCESS', identities.intern);
    await get(sandbox, '/v3/search/roles/none', token);
    clock.advance(MINUTE);
    expect(sandbox.state.identities.get(identities.intern)!.access.map((a) => a.id)).not.toContain(
      GITHUB_DEVELOPER,
    );
    expect((await document(identities.intern)).body.access!.map((a) => a.id)).toContain(GITHUB_DEVELOPER);
    clock.advance(3 * MINUTE);
    const revoked = await document(identities.intern);
    expect(revoked.body.access!.map((a) => a.id)).not.toContain(GITHUB_DEVELOPER);
    expect(Date.parse(revoked.body.modified!)).toBeGreaterThan(Date.parse(fresh.body.modified!));
  });

  it('can be changed on the state at any time (0: Search is current)', async () => {
    await start();
    await requestAccess('GRANT_ACCESS', identities.intern);
    await get(sandbox, '/v3/search/roles/none', token); // the approval is applied
    expect((await document(identities.intern)).body.access!.map((a) => a.id)).not.toContain(GITHUB_DEVELOPER);
    sandbox.state.search.lagMs = 0;
    expect((await document(identities.intern)).body.access!.map((a) => a.id)).toContain(GITHUB_DEVELOPER);
  });

  it('refuses a negative lag, naming the option', async () => {
    await expect(startSandbox({ searchLagMs: -1 })).rejects.toThrow(/searchLagMs/);
  });
});
