import {
  acceptedAccessRequestUnits,
  acceptedUnitKey,
  compareAcceptedUnits,
  type Sandbox,
  startSandbox,
} from '../../../sandbox/server';
import { DEFAULT_SEED_IDS } from '../../../sandbox/seed';
import { PAT_CLIENT, fetchToken } from './helpers';

const { identities } = DEFAULT_SEED_IDS;
const ENGINEERING = 'acce5500000000000000000000000002'; // role, requestable
const GITHUB = 'acce5500000000000000000000000003'; // access profile, requestable

describe('sandbox: counting what SailPoint accepted from the request log', () => {
  let sandbox: Sandbox;
  let token: string;
  beforeEach(async () => {
    sandbox = await startSandbox({ rateLimit: { limit: 4, windowMs: 60_000 } });
    token = await fetchToken(sandbox, PAT_CLIENT);
  });
  afterEach(() => sandbox.stop());

  const post = (body: unknown) =>
    fetch(`${sandbox.url}/beta/access-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const grant = (ids: string[], items: { type: string; id: string }[]) => ({
    requestedFor: ids,
    requestType: 'GRANT_ACCESS',
    requestedItems: items,
  });

  it('counts per unit every body answered 202, including a re-POST the sandbox absorbed', async () => {
    const body = grant([identities.intern, identities.serviceAccount], [{ type: 'ROLE', id: ENGINEERING }]);
    expect((await post(body)).status).toBe(202);
    expect((await post(body)).status).toBe(202); // already pending: existingRequests, no new record
    expect((await post({ ...body, requestedItems: [{ type: 'ROLE', id: 'nope' }] })).status).toBe(400);
    expect((await post(body)).status).toBe(202);
    expect((await post(body)).status).toBe(429); // over the rate limit: not accepted

    const records = sandbox.state.accessRequests.records.filter((r) => r.item.id === ENGINEERING);
    expect(records).toHaveLength(2); // the sandbox's records cannot show the duplicates …
    const accepted = acceptedAccessRequestUnits(sandbox.requestLog);
    expect(accepted).toEqual(
      new Map([
        [acceptedUnitKey('GRANT_ACCESS', identities.intern, 'ROLE', ENGINEERING), 3],
        [acceptedUnitKey('GRANT_ACCESS', identities.serviceAccount, 'ROLE', ENGINEERING), 3],
      ]),
    ); // … the accepted bodies do
    const report = compareAcceptedUnits(accepted, [
      acceptedUnitKey('GRANT_ACCESS', identities.intern, 'ROLE', ENGINEERING),
      acceptedUnitKey('GRANT_ACCESS', identities.intern, 'ACCESS_PROFILE', GITHUB),
    ]);
    expect(report.postedTwice.size).toBe(2);
    expect(report.missing).toEqual([
      acceptedUnitKey('GRANT_ACCESS', identities.intern, 'ACCESS_PROFILE', GITHUB),
    ]);
    expect(report.unexpected).toEqual([
      acceptedUnitKey('GRANT_ACCESS', identities.serviceAccount, 'ROLE', ENGINEERING),
    ]);
  });

  it('afterRoute faults: SailPoint accepts, the client gets a 503 or a dropped connection; the log keeps both', async () => {
    sandbox.faults.inject({ method: 'POST', path: '/beta/access-requests', status: 503, afterRoute: true });
    const answered = await post(grant([identities.intern], [{ type: 'ROLE', id: ENGINEERING }]));
    expect(answered.status).toBe(503);
    expect(await answered.json()).toMatchObject({ detailCode: expect.any(String) });

    sandbox.faults.inject({
      method: 'POST',
      path: '/beta/access-requests',
      dropConnection: true,
      afterRoute: true,
    });
    await expect(
      post(grant([identities.intern], [{ type: 'ACCESS_PROFILE', id: GITHUB }])),
    ).rejects.toThrow();

    expect(sandbox.state.accessRequests.records.map((r) => r.item.id).sort()).toEqual([ENGINEERING, GITHUB]);
    const entries = sandbox.requestLog.filter({ method: 'POST', path: '/beta/access-requests' });
    expect(entries.map((e) => [e.status, e.routeStatus, e.fault])).toEqual([
      [503, 202, true],
      [0, 202, true],
    ]);
    expect(acceptedAccessRequestUnits(sandbox.requestLog)).toEqual(
      new Map([
        [acceptedUnitKey('GRANT_ACCESS', identities.intern, 'ROLE', ENGINEERING), 1],
        [acceptedUnitKey('GRANT_ACCESS', identities.intern, 'ACCESS_PROFILE', GITHUB), 1],
      ]),
    );
  });

  it('an afterRoute fault only fires on requests that reach a route; a plain fault still keeps the route from acting', async () => {
    sandbox.faults.inject({ method: 'POST', path: '/beta/access-requests', status: 500, afterRoute: true });
    const unauthenticated = await fetch(`${sandbox.url}/beta/access-requests`, { method: 'POST' });
    expect(unauthenticated.status).toBe(401); // the gateway answered: the fault is still pending
    expect(sandbox.faults.pending).toBe(1);
    sandbox.faults.clear();
    sandbox.faults.inject({ method: 'POST', path: '/beta/access-requests', status: 503 });
    expect((await post(grant([identities.intern], [{ type: 'ROLE', id: ENGINEERING }]))).status).toBe(503);
    expect(sandbox.state.accessRequests.records).toHaveLength(0);
    expect(acceptedAccessRequestUnits(sandbox.requestLog).size).toBe(0);
  });

  it('keeps the bodies of SailPoint API writes, never of token requests', async () => {
    await post(grant([identities.intern], [{ type: 'ROLE', id: ENGINEERING }]));
    const token = sandbox.requestLog.filter({ path: '/oauth/token' })[0]!;
    expect(token.body).toBeUndefined();
    const access = sandbox.requestLog.filter({ path: '/beta/access-requests' })[0]!;
    expect(access.body).toEqual(grant([identities.intern], [{ type: 'ROLE', id: ENGINEERING }]));
  });
});
