/** The sandbox's Cognigy.AI side, over the wire. */
import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { COGNIGY_SANDBOX_KEYS } from '../../../sandbox/cognigy/state';

const ACL = '/new/v2.0/users/me/acl';
const KEYS = '/new/v2.1/users/me/apikeys';
const TRACE = /^api--[0-9a-f-]{36}$/;

/** Response bodies are asserted field by field; their exact types do not matter here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (response: Response): Promise<any> => response.json();

describe('sandbox Cognigy API', () => {
  let sandbox: Sandbox;
  beforeEach(async () => {
    sandbox = await startSandbox({ now: () => new Date('2026-03-01T12:00:00Z') });
  });
  afterEach(() => sandbox.stop());

  const get = (
    path: string,
    key: string | null = COGNIGY_SANDBOX_KEYS.leastPrivilege,
    accept = 'application/json',
  ) =>
    fetch(`${sandbox.url}${path}`, {
      headers: { ...(key ? { 'x-api-key': key } : {}), ...(accept ? { accept } : {}) },
    });

  it('answers a wrong or missing key with 401 in the RFC 7807 shape, traceId in body and header', async () => {
    for (const key of ['wrong-key', null]) {
      const response = await get(ACL, key);
      expect(response.status).toBe(401);
      const body = await json(response);
      expect(body).toEqual({
        type: 'Unauthorized',
        title: 'Unauthorized Error',
        status: 401,
        detail: expect.any(String),
        instance: '/v2.0/users/me/acl',
        code: '401',
        traceId: expect.stringMatching(TRACE),
        details: {},
      });
      expect(response.headers.get('x-trace-id')).toBe(body.traceId);
    }
  });

  it('serves the ACL with every listed resource, false flags included', async () => {
    const response = await get(ACL);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-trace-id')).toMatch(TRACE);
    const body = await json(response);
    expect(body.organisationWide.roles).toEqual(['apiKeys']);
    expect(body.organisationWide.rights.apiKeys).toEqual({
      create: false,
      read: true,
      update: false,
      delete: false,
    });
    expect(body.organisationWide.rights.users).toEqual({
      create: false,
      read: false,
      update: false,
      delete: false,
    });
    expect(body.projectWide).toEqual({});
  });

  it('renders a granted right on an unknown resource, and project scopes with roles', async () => {
    const [userId] = [...sandbox.state.cognigy.users.keys()];
    sandbox.state.cognigy.grant(userId!, { rights: ['aiAgents.execute'] });
    sandbox.state.cognigy.grant(userId!, { projectId: 'p1', rights: ['flows.read'], roles: ['basic'] });
    const body = await json(await get(ACL));
    expect(body.organisationWide.rights.aiAgents).toEqual({
      create: false,
      read: false,
      update: false,
      delete: false,
      execute: true,
    });
    expect(body.projectWide.p1.roles).toEqual(['basic']);
    expect(body.projectWide.p1.rights.flows.read).toBe(true);
    expect(body.projectWide.p1.allowedLocales).toEqual([]);
  });

  it('lists keys with metadata and a masked preview only, and pages with a cursor', async () => {
    const body = await json(await get(KEYS, COGNIGY_SANDBOX_KEYS.admin));
    expect(body.total).toBe(2);
    expect(body.nextCursor).toBeNull();
    for (const item of body.items) {
      expect(Object.keys(item).sort()).toEqual(['_id', 'createdAt', 'keyPreview', 'name']);
      expect(item.keyPreview).toMatch(/^.{4}•+.{4}$/);
    }
    expect(JSON.stringify(body)).not.toContain(COGNIGY_SANDBOX_KEYS.admin);
    const page1 = await json(await get(`${KEYS}?limit=1`, COGNIGY_SANDBOX_KEYS.admin));
    expect(page1.items).toHaveLength(1);
    const page2 = await json(
      await get(`${KEYS}?limit=1&next=${page1.nextCursor}`, COGNIGY_SANDBOX_KEYS.admin),
    );
    expect(page2.items[0]._id).not.toBe(page1.items[0]._id);
    expect(page2.nextCursor).toBeNull();
  });

  it('answers hal+json without Accept: application/json (Cognigy’s default media type)', async () => {
    const response = await get(KEYS, COGNIGY_SANDBOX_KEYS.leastPrivilege, '');
    expect(response.headers.get('content-type')).toContain('application/hal+json');
    const body = await json(response);
    expect(body.items).toBeUndefined();
    expect(body._embedded.apikeys).toHaveLength(1);
  });

  it('does not serve the v2.0 key list, which would return keys in plain text', async () => {
    expect((await get('/new/v2.0/users/me/apikeys')).status).toBe(404);
  });

  it('rate-limits per user with a 429 problem and Retry-After, apart from the SailPoint limit', async () => {
    sandbox.state.cognigy.rateLimit = { limit: 2, windowMs: 60_000 };
    expect((await get(ACL)).status).toBe(200);
    expect((await get(ACL)).status).toBe(200);
    const limited = await get(ACL);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await json(limited)).toMatchObject({
      status: 429,
      code: '429',
      traceId: expect.stringMatching(TRACE),
    });
    // Another user has their own budget.
    expect((await get(ACL, COGNIGY_SANDBOX_KEYS.admin)).status).toBe(200);
  });

  it('answers injected faults on Cognigy paths in the RFC 7807 shape', async () => {
    sandbox.faults.inject({ path: ACL, status: 503 });
    sandbox.faults.inject({ path: ACL, status: 429, retryAfterSeconds: 2 });
    const unavailable = await get(ACL);
    expect(unavailable.status).toBe(503);
    const body = await json(unavailable);
    expect(body).toMatchObject({
      status: 503,
      title: 'Service Unavailable',
      traceId: expect.stringMatching(TRACE),
    });
    expect(unavailable.headers.get('x-trace-id')).toBe(body.traceId);
    const limited = await get(ACL);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await json(limited)).toMatchObject({ status: 429, traceId: expect.stringMatching(TRACE) });
  });
});
