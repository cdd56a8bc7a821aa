/** searchIdentityAccess over the wire: the shared client against the sandbox's POST /v3/search. */
import {
  SailPointClient,
  identitySearchCalls,
  searchIdentityAccess,
} from '../../../functions/shared/sailpoint';
import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { PAT_CLIENT, manualClock, member, seedWithMembers } from '../sandbox/helpers';

const ROLE = 'acce5500000000000000000000000002'; // Engineering, requestable
const REQUESTER = '2c9180aa000000000000000000000014';

describe('searchIdentityAccess against the sandbox (rate limit and Search lag on, their defaults)', () => {
  let sandbox: Sandbox;
  let client: SailPointClient;
  const clock = manualClock('2030-03-01T09:00:00Z');

  beforeAll(async () => {
    sandbox = await startSandbox({
      seed: seedWithMembers(45, (n) => (n % 2 === 0 ? [ROLE] : []), REQUESTER),
      now: clock.now,
    });
    client = new SailPointClient({ apiUrl: sandbox.url, ...PAT_CLIENT });
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.requestLog.clear());

  const searchCalls = () => sandbox.requestLog.filter({ method: 'POST', path: '/v3/search' });

  it('reads more identities than one page holds, in the calls it announces, each in the v3 bucket', async () => {
    const ids = Array.from({ length: 45 }, (_, i) => member(i + 1));
    const wanted = [...ids, '2c9180aa0000000000000000000000ff'];
    const found = await searchIdentityAccess(client, wanted, { pageSize: 10, idsPerQuery: 25 });
    expect([...found.keys()].sort()).toEqual(ids);
    expect(found.get(member(2))!.access).toEqual([{ id: ROLE, type: 'ROLE' }]);
    expect(found.get(member(3))!.access).toEqual([]);
    expect(found.get(member(3))!.modified).toBe('2030-02-19T09:00:00.000Z');
    const calls = searchCalls();
    expect(calls.map((c) => c.status)).toEqual(Array(calls.length).fill(200));
    expect(calls.every((c) => c.apiVersion === 'v3' && c.query.limit === '10')).toBe(true);
    // 25 ids: pages of 10, 10, 5; 21 ids (one unknown): 10, 10, 0 → the last page is short.
    expect(calls).toHaveLength(6);
    expect(calls.length).toBeLessThanOrEqual(
      identitySearchCalls(wanted.length, { pageSize: 10, idsPerQuery: 25 }),
    );
  });

  it('shows what Search shows: access provisioned within the lag is not there yet, then is, with a newer modified', async () => {
    const before = (await searchIdentityAccess(client, [member(1)])).get(member(1))!;
    const response = await fetch(`${sandbox.url}/beta/access-requests`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${sandbox.issueToken(PAT_CLIENT.clientId)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ requestedFor: [member(1)], requestedItems: [{ type: 'ROLE', id: ROLE }] }),
    });
    expect(response.status).toBe(202);
    const stale = (await searchIdentityAccess(client, [member(1)])).get(member(1))!; // approval applied now
    expect(stale.access).toEqual([]);
    clock.advance(sandbox.state.search.lagMs);
    const fresh = (await searchIdentityAccess(client, [member(1)])).get(member(1))!;
    expect(fresh.access).toEqual([{ id: ROLE, type: 'ROLE' }]);
    expect(Date.parse(fresh.modified)).toBeGreaterThan(Date.parse(before.modified));
  });
});
