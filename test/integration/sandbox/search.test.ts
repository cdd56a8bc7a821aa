import { DEFAULT_SEED_IDS } from '../../../sandbox/seed';
import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { API_CLIENT, expectErrorResponseDto, fetchToken, get } from './helpers';

const { identities } = DEFAULT_SEED_IDS;

describe('sandbox search: GET /v3/search/{index}/{id}', () => {
  let sandbox: Sandbox;
  let token: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ now: () => new Date('2025-06-01T12:00:00.000Z') });
    token = await fetchToken(sandbox, API_CLIENT);
  });
  afterAll(() => sandbox.stop());

  const doc = async (path: string) => {
    const response = await get(sandbox, path, token);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('returns the identity document with manager and access', async () => {
    const { status, body } = await doc(`/v3/search/identities/${identities.engineeringManager}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: identities.engineeringManager,
      name: 'dev.patel',
      _type: 'identity',
      displayName: 'Dev Patel',
      email: 'dev.patel@example.com',
      manager: { id: identities.vpEngineering, name: 'ben.okafor', displayName: 'Ben Okafor' },
      isManager: true,
      inactive: false,
      status: 'ACTIVE',
      attributes: expect.objectContaining({ department: 'Engineering', uid: 'dev.patel' }),
      accessCount: 5,
      roleCount: 2,
      accessProfileCount: 3,
      entitlementCount: 0,
    });
    expect(body.access).toContainEqual({
      id: 'acce5500000000000000000000000005',
      name: 'AWS Administrator',
      displayName: 'AWS Administrator',
      type: 'ACCESS_PROFILE',
      description: expect.any(String),
      source: { id: '50ce0000000000000000000000000003', name: 'AWS' },
    });
  });

  it('gives the top of the tree a null manager, and a non-manager isManager false', async () => {
    expect((await doc(`/v3/search/identities/${identities.ceo}`)).body).toMatchObject({
      manager: null,
      isManager: true,
    });
    const intern = await doc(`/v3/search/identities/${identities.intern}`);
    expect(intern.body).toMatchObject({
      isManager: false,
      manager: { id: '2c9180aa000000000000000000000009' },
    });
    const service = await doc(`/v3/search/identities/${identities.serviceAccount}`);
    expect(service.body).toMatchObject({ manager: null, email: null });
  });

  it('reflects changes tests make to the state', async () => {
    sandbox.state.identities.get(identities.intern)!.managerId = identities.ceo;
    const { body } = await doc(`/v3/search/identities/${identities.intern}`);
    expect(body.manager).toEqual({ id: identities.ceo, name: 'amelia.hart', displayName: 'Amelia Hart' });
  });

  it('serves roles, access profiles and entitlements from the access catalog', async () => {
    const role = await doc('/v3/search/roles/acce5500000000000000000000000002');
    expect(role).toMatchObject({ status: 200, body: { _type: 'role', name: 'Engineering' } });
    const entitlement = await doc('/v3/search/entitlements/acce5500000000000000000000000008');
    expect(entitlement.body).toMatchObject({
      _type: 'entitlement',
      displayName: 'Domain Admins',
      privileged: true,
    });
    expect((await doc('/v3/search/roles/acce5500000000000000000000000003')).status).toBe(404);
  });

  it('answers 404 for an unknown id and for indices the sandbox holds no documents in', async () => {
    for (const path of [
      '/v3/search/identities/2c9180aa0000000000000000000000ff',
      `/v3/search/events/${identities.ceo}`,
    ]) {
      const { status, body } = await doc(path);
      expect(status).toBe(404);
      expectErrorResponseDto(body, '404 Not found');
    }
  });

  it('answers 400 for an unsupported index name', async () => {
    const { status, body } = await doc(`/v3/search/people/${identities.ceo}`);
    expect(status).toBe(400);
    expectErrorResponseDto(body, '400.1 Bad Request Content');
  });
});
