/**
 * The sandbox's access requests over HTTP: the API page's rules with ISC's 400 shape, 403 for a
 * pure API client, asynchronous approval (EXECUTING/PENDING → REQUEST_COMPLETED/APPROVED or
 * REJECTED) reflected in Search `access[]`, and GET /v3/access-request-status.
 */
import { rejectPrivileged } from '../../../sandbox/sailpoint/access-requests';
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import {
  API_CLIENT,
  expectErrorResponseDto,
  fetchToken,
  get,
  manualClock,
  PAT_CLIENT,
} from '../sandbox/helpers';
import { entitlement, person, REQUESTER_ID, role, testSeed } from './harness';

const MINUTE = 60_000;

describe('sandbox: access requests', () => {
  let sandbox: Sandbox;
  let token: string;
  let clock = manualClock('2030-03-01T09:00:00Z');
  afterEach(async () => sandbox?.stop());

  async function start() {
    clock = manualClock('2030-03-01T09:00:00Z');
    // Search lag off: these tests read provisioned access through Search right after the approval
    // (the lag itself is tested in test/integration/sandbox/search-lag.test.ts).
    sandbox = await startSandbox({ seed: testSeed(), rateLimit: false, searchLagMs: 0, now: clock.now });
    token = await fetchToken(sandbox, PAT_CLIENT);
  }
  const post = (body: unknown, bearer = token) =>
    fetch(`${sandbox.url}/beta/access-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const statuses = async (query: string) =>
    (await get(sandbox, `/v3/access-request-status?${query}`, token)).json();
  const accessOf = async (id: string) =>
    (
      (await (await get(sandbox, `/v3/search/identities/${id}`, token)).json()) as {
        access: { id: string }[];
      }
    ).access.map((a) => a.id);

  it('accepts a GRANT with 202 and tracking ids, then approves it after the delay', async () => {
    await start();
    sandbox.state.accessRequests.approvalDelayMs = 5 * MINUTE;
    const response = await post({
      requestedFor: [person(1), person(2)],
      requestedItems: [{ type: 'ROLE', id: role(1), comment: 'joiner', clientMetadata: { ticket: 'T-1' } }],
      clientMetadata: { app: 'hr' },
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as {
      newRequests: { requestedFor: string; accessRequestIds: string[] }[];
    };
    expect(body).toEqual({
      newRequests: [person(1), person(2)].map((p) => ({
        requestedFor: p,
        requestedItemsDetails: [{ type: 'ROLE', id: role(1) }],
        attributesHash: expect.any(Number),
        accessRequestIds: [expect.stringMatching(/^[0-9a-f]{32}$/)],
      })),
      existingRequests: [],
    });

    const pending = (await statuses(`requested-for=${person(1)}`)) as Record<string, unknown>[];
    expect(pending).toEqual([
      expect.objectContaining({
        id: body.newRequests[0]!.accessRequestIds[0],
        accessRequestId: body.newRequests[0]!.accessRequestIds[0],
        type: 'ROLE',
        name: 'Test Role 1',
        state: 'EXECUTING',
        requestType: 'GRANT_ACCESS',
        requestedFor: { type: 'IDENTITY', id: person(1), name: 'Test Person 1' },
        requester: { type: 'IDENTITY', id: REQUESTER_ID, name: 'Nina Ivanova' },
        clientMetadata: { app: 'hr', ticket: 'T-1' },
        approvalDetails: [expect.objectContaining({ status: 'PENDING' })],
        cancelable: true,
        created: '2030-03-01T09:00:00.000Z',
      }),
    ]);
    expect(await accessOf(person(1))).toEqual([]);

    clock.advance(5 * MINUTE);
    const done = (await statuses(`requested-for=${person(1)}`)) as Record<string, unknown>[];
    expect(done[0]).toMatchObject({
      state: 'REQUEST_COMPLETED',
      approvalDetails: [{ status: 'APPROVED' }],
      cancelable: false,
    });
    expect(await accessOf(person(1))).toEqual([role(1)]);
  });

  it('rejects with the configured approver, and revokes access on an approved REVOKE', async () => {
    await start();
    sandbox.state.accessRequests.decide = rejectPrivileged(sandbox.state);
    const admin = 'acce5500000000000000000000000005'; // AWS Administrator (privileged)
    expect(
      (await post({ requestedFor: [person(1)], requestedItems: [{ type: 'ACCESS_PROFILE', id: admin }] }))
        .status,
    ).toBe(202);
    expect(await accessOf(person(1))).toEqual([]);
    expect(((await statuses(`requested-for=${person(1)}`)) as { state: string }[])[0]!.state).toBe(
      'REJECTED',
    );

    await post({ requestedFor: [person(1)], requestedItems: [{ type: 'ROLE', id: role(2) }] });
    expect(await accessOf(person(1))).toEqual([role(2)]);
    const revoke = await post({
      requestedFor: [person(1)],
      requestType: 'REVOKE_ACCESS',
      requestedItems: [{ type: 'ROLE', id: role(2), comment: 'mover' }],
    });
    expect(revoke.status).toBe(202);
    expect(await accessOf(person(1))).toEqual([]);
  });

  it('does not create a second request for a pending item or one already held (as the page says: no error)', async () => {
    await start();
    sandbox.state.accessRequests.approvalDelayMs = 60 * MINUTE;
    const body = { requestedFor: [person(3)], requestedItems: [{ type: 'ROLE', id: role(3) }] };
    const first = (await (await post(body)).json()) as { newRequests: { accessRequestIds: string[] }[] };
    const again = await post(body);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({
      newRequests: [],
      existingRequests: [
        expect.objectContaining({
          requestedFor: person(3),
          accessRequestIds: first.newRequests[0]!.accessRequestIds,
        }),
      ],
    });
    expect(sandbox.state.accessRequests.records).toHaveLength(1);
  });

  it("answers {} when set to the beta page's response body", async () => {
    await start();
    sandbox.state.accessRequests.responseBody = 'empty';
    const response = await post({
      requestedFor: [person(1)],
      requestedItems: [{ type: 'ROLE', id: role(1) }],
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({});
  });

  it('refuses a pure API client with 403, as the real service does for tokens without user context', async () => {
    await start();
    const apiToken = await fetchToken(sandbox, API_CLIENT);
    const response = await post(
      { requestedFor: [person(1)], requestedItems: [{ type: 'ROLE', id: role(1) }] },
      apiToken,
    );
    expect(response.status).toBe(403);
    expectErrorResponseDto(await response.json(), '403 Forbidden');
    expect((await get(sandbox, '/v3/access-request-status', apiToken)).status).toBe(403);
  });

  const invalid: [string, unknown, string][] = [
    [
      'no items',
      { requestedFor: [person(1)], requestedItems: [] },
      'requestedItems: must contain at least 1 item',
    ],
    [
      '26 entitlements',
      {
        requestedFor: [person(1)],
        requestedItems: Array.from({ length: 26 }, (_, i) => ({ type: 'ENTITLEMENT', id: `e${i + 1}` })),
      },
      'requestedItems: at most 25 entitlements per request (got 26)',
    ],
    [
      'a REVOKE for two identities',
      {
        requestedFor: [person(1), person(2)],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [{ type: 'ROLE', id: role(1), comment: 'x' }],
      },
      'requestedFor: REVOKE_ACCESS takes exactly one identity (got 2)',
    ],
    [
      'a REVOKE without comment',
      {
        requestedFor: [person(1)],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [{ type: 'ROLE', id: role(1) }],
      },
      'requestedItems[0].comment: a comment is required for REVOKE_ACCESS',
    ],
    [
      'a REVOKE of two entitlements',
      {
        requestedFor: [person(1)],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [
          { type: 'ENTITLEMENT', id: entitlement(1), comment: 'x' },
          { type: 'ENTITLEMENT', id: entitlement(2), comment: 'x' },
        ],
      },
      'requestedItems: REVOKE_ACCESS allows 1 entitlement per request (got 2)',
    ],
    [
      'a self revoke',
      {
        requestedFor: [REQUESTER_ID],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [{ type: 'ROLE', id: 'acce5500000000000000000000000011', comment: 'x' }],
      },
      'requestedFor: REVOKE_ACCESS does not support self request',
    ],
    [
      'an entitlement for 11 identities',
      {
        requestedFor: Array.from({ length: 11 }, (_, i) => person(i + 1)),
        requestedItems: [{ type: 'ENTITLEMENT', id: entitlement(1) }],
      },
      'requestedFor: at most 10 identities when entitlements are requested (got 11)',
    ],
    [
      'a past removeDate',
      {
        requestedFor: [person(1)],
        requestedItems: [{ type: 'ROLE', id: role(1), removeDate: '2030-03-01T08:00:00Z' }],
      },
      'requestedItems[0].removeDate: must be in the future',
    ],
    [
      'an unknown identity',
      { requestedFor: ['nobody'], requestedItems: [{ type: 'ROLE', id: role(1) }] },
      'requestedFor: identity nobody was not found',
    ],
    [
      'a non-requestable item',
      {
        requestedFor: [person(1)],
        requestedItems: [{ type: 'ROLE', id: 'acce5500000000000000000000000001' }],
      },
      'requestedItems[0]: ROLE acce5500000000000000000000000001 is not requestable',
    ],
  ];

  it.each(invalid)('answers 400 ErrorResponseDto for %s, naming the problem', async (_name, body, cause) => {
    await start();
    const response = await post(body);
    expect(response.status).toBe(400);
    const dto = (await response.json()) as { causes: { text: string }[] };
    expectErrorResponseDto(dto, '400.1 Bad Request Content');
    expect(dto.causes.map((c) => c.text)).toContain(cause);
    expect(sandbox.state.accessRequests.records).toHaveLength(0);
  });

  it('filters, sorts and pages the status list, and refuses what the endpoint does not support', async () => {
    await start();
    sandbox.state.accessRequests.approvalDelayMs = 60 * MINUTE;
    await post({ requestedFor: [person(1)], requestedItems: [{ type: 'ROLE', id: role(1) }] });
    clock.advance(MINUTE);
    await post({ requestedFor: [person(1)], requestedItems: [{ type: 'ROLE', id: role(2) }] });
    await post({ requestedFor: [person(2)], requestedItems: [{ type: 'ROLE', id: role(3) }] });

    const names = (list: unknown) => (list as { name: string }[]).map((s) => s.name);
    expect(names(await statuses(`requested-for=${person(1)}&sorters=-created`))).toEqual([
      'Test Role 2',
      'Test Role 1',
    ]);
    expect(
      names(await statuses(`requested-for=${person(1)}&filters=created ge 2030-03-01T09:00:30Z`)),
    ).toEqual(['Test Role 2']);
    expect(names(await statuses('requested-by=me&limit=2&sorters=name'))).toEqual([
      'Test Role 1',
      'Test Role 2',
    ]);
    const counted = await get(sandbox, '/v3/access-request-status?count=true&limit=1', token);
    expect(counted.headers.get('x-total-count')).toBe('3');
    expect((await get(sandbox, '/v3/access-request-status?filters=name eq "x"', token)).status).toBe(400);
    expect((await get(sandbox, '/v3/access-request-status?limit=251', token)).status).toBe(400);
    expect((await get(sandbox, '/v3/access-request-status?request-state=REJECTED', token)).status).toBe(400);
    expect(
      (
        await get(
          sandbox,
          `/v3/access-request-status?regarding-identity=me&requested-for=${person(1)}`,
          token,
        )
      ).status,
    ).toBe(400);
  });
});
