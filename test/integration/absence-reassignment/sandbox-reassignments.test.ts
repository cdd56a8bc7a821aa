/**
 * The sandbox's work-reassignment endpoints, driven through the shared client's API functions
 * (functions/shared/sailpoint/api/reassignment-configurations.ts) and, for error shapes, raw HTTP.
 */
import { type Sandbox, startSandbox } from '../../../sandbox/server';
import {
  SailPointAuthError,
  SailPointClient,
  SailPointValidationError,
  configDetailOf,
  createReassignmentConfiguration,
  deleteReassignmentConfiguration,
  evaluateReassignmentConfiguration,
  getReassignmentConfiguration,
  listAllReassignmentConfigurations,
  listReassignmentConfigTypes,
  listReassignmentConfigurations,
  reassignmentEndDate,
  updateReassignmentConfiguration,
  type ConfigType,
} from '../../../functions/shared/sailpoint';
import { API_CLIENT, PAT_CLIENT, expectErrorResponseDto, fetchToken, manualClock } from '../sandbox/helpers';

const AMELIA = '2c9180aa000000000000000000000001';
const BEN = '2c9180aa000000000000000000000002';
const DEV = '2c9180aa000000000000000000000004';
const FARID = '2c9180aa000000000000000000000006';
const GRACE = '2c9180aa000000000000000000000007';

describe('sandbox work reassignment', () => {
  const clock = manualClock('2030-06-01T12:00:00.000Z');
  let sandbox: Sandbox;
  let client: SailPointClient;

  beforeAll(async () => {
    sandbox = await startSandbox({ now: clock.now, rateLimit: false });
    client = new SailPointClient({ apiUrl: sandbox.url, ...PAT_CLIENT, retry: { maxAttempts: 1 } });
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.state.reassignments.clear());

  const july = { startDate: '2030-07-01T00:00:00.000Z', endDate: '2030-07-15T00:00:00.000Z' };
  const create = (
    from: string,
    to: string,
    type: ConfigType = 'ACCESS_REQUESTS',
    window: { startDate: string; endDate: string | null } = july,
  ) =>
    createReassignmentConfiguration(client, {
      reassignedFromId: from,
      reassignedToId: to,
      configType: type,
      ...window,
    });

  it('creates, reads, lists, replaces and deletes a configuration', async () => {
    const created = await create(FARID, DEV);
    expect(created.identity).toEqual({ id: FARID, name: 'Farid Haddad' });
    expect(created.configDetails).toEqual([
      {
        configType: 'ACCESS_REQUESTS',
        targetIdentity: { id: DEV, name: expect.any(String) },
        ...july,
        auditDetails: {
          created: '2030-06-01T12:00:00.000Z',
          createdBy: { id: '2c9180aa000000000000000000000014', name: expect.any(String) },
          modified: '2030-06-01T12:00:00.000Z',
          modifiedBy: { id: '2c9180aa000000000000000000000014', name: expect.any(String) },
        },
      },
    ]);
    await create(FARID, DEV, 'CERTIFICATIONS');

    const read = await getReassignmentConfiguration(client, FARID);
    expect(read?.configDetails.map((d) => d.configType)).toEqual(['ACCESS_REQUESTS', 'CERTIFICATIONS']);
    expect(await listAllReassignmentConfigurations(client)).toHaveLength(1);

    const replaced = await updateReassignmentConfiguration(client, FARID, {
      reassignedFromId: FARID,
      reassignedToId: BEN,
      configType: 'ACCESS_REQUESTS',
      startDate: july.startDate,
      endDate: null,
    });
    const detail = configDetailOf(replaced, 'ACCESS_REQUESTS');
    expect(detail?.targetIdentity?.id).toBe(BEN);
    // A permanent reassignment comes back as the zero time, which the client reads as "no end".
    expect(detail?.endDate).toBe('0001-01-01T00:00:00Z');
    expect(reassignmentEndDate(detail?.endDate)).toBeNull();

    expect(await deleteReassignmentConfiguration(client, FARID, 'ACCESS_REQUESTS')).toBe('deleted');
    expect(await deleteReassignmentConfiguration(client, FARID, 'ACCESS_REQUESTS')).toBe('not-found');
    expect(
      (await getReassignmentConfiguration(client, FARID))?.configDetails.map((d) => d.configType),
    ).toEqual(['CERTIFICATIONS']);
    expect(await getReassignmentConfiguration(client, 'no-such-identity')).toBeUndefined();
  });

  it('pages the list 20 at a time and refuses a larger limit', async () => {
    const ids = [...sandbox.state.identities.keys()].filter((id) => id !== AMELIA).slice(0, 19);
    for (const id of ids) await create(id, AMELIA);
    await create(AMELIA, BEN, 'CERTIFICATIONS'); // ACCESS_REQUESTS would close a loop
    expect(await listReassignmentConfigurations(client, { limit: 5, offset: 18 })).toHaveLength(2);
    expect(await listAllReassignmentConfigurations(client)).toHaveLength(20);
    await expect(listReassignmentConfigurations(client, { limit: 50 })).rejects.toBeInstanceOf(
      SailPointValidationError,
    );
  });

  it('lists the three work types', async () => {
    const types = await listReassignmentConfigTypes(client);
    expect(types.map((t) => t.internalNameCamel)).toEqual([
      'ACCESS_REQUESTS',
      'CERTIFICATIONS',
      'MANUAL_TASKS',
    ]);
    expect(types[0]).toMatchObject({
      priority: 1,
      internalName: 'accessRequests',
      displayName: 'Access Requests',
    });
  });

  it('refuses to reassign an identity to itself, an unknown identity, or a window that is over', async () => {
    await expect(create(FARID, FARID)).rejects.toThrow(/cannot reassign work to itself/);
    await expect(create(FARID, 'ghost')).rejects.toThrow(/reassignedToId: identity ghost was not found/);
    await expect(
      create(FARID, DEV, undefined, { startDate: '2030-05-01T00:00:00Z', endDate: '2030-05-02T00:00:00Z' }),
    ).rejects.toThrow(/endDate must be in the future/);
    expect(sandbox.state.reassignments.size).toBe(0);
  });

  it('refuses a second configuration of the same identity and type whose window overlaps; replaces one that does not', async () => {
    await create(FARID, DEV);
    const overlapping = create(FARID, BEN, undefined, { startDate: '2030-07-10T00:00:00Z', endDate: null });
    await expect(overlapping).rejects.toBeInstanceOf(SailPointValidationError);
    await expect(overlapping).rejects.toThrow(
      /already has a ACCESS_REQUESTS reassignment .* overlapping this one/,
    );

    const later = await create(FARID, BEN, undefined, {
      startDate: '2030-08-01T00:00:00Z',
      endDate: '2030-08-10T00:00:00Z',
    });
    expect(later.configDetails).toHaveLength(1);
    expect(configDetailOf(later, 'ACCESS_REQUESTS')?.targetIdentity?.id).toBe(BEN);
  });

  it('refuses a configuration that closes a loop, naming everyone in it, as ISC does', async () => {
    await create(DEV, GRACE);
    await create(GRACE, FARID);
    const token = await fetchToken(sandbox, PAT_CLIENT);
    const response = await fetch(`${sandbox.url}/beta/reassignment-configurations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        reassignedFromId: FARID,
        reassignedToId: DEV,
        configType: 'ACCESS_REQUESTS',
        ...july,
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { messages: { text: string }[]; causes: { text: string }[] };
    expectErrorResponseDto(body, '400.1 Bad Request Content');
    expect(body.messages[0]?.text).toBe(
      'This reassignment would create a loop in the reassignment chain: Farid Haddad → Dev Patel → Grace Kim → Farid Haddad.',
    );
    expect(body.causes.map((c) => c.text)).toHaveLength(4);
    // Windows that do not overlap are no loop: covering for each other in different weeks is fine.
    await create(FARID, DEV, undefined, {
      startDate: '2030-09-01T00:00:00Z',
      endDate: '2030-09-10T00:00:00Z',
    });
  });

  it('validates the body with ErrorResponseDto causes', async () => {
    const token = await fetchToken(sandbox, PAT_CLIENT);
    const response = await fetch(`${sandbox.url}/beta/reassignment-configurations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reassignedFromId: FARID, configType: 'HOLIDAYS' }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { causes: { text: string }[] };
    expect(body.causes.map((c) => c.text)).toEqual([
      'reassignedToId: is required',
      'configType: must be one of ACCESS_REQUESTS, CERTIFICATIONS, MANUAL_TASKS',
    ]);
  });

  it('evaluates where work lands now, following active configurations to depth 5', async () => {
    expect(await evaluateReassignmentConfiguration(client, FARID, 'ACCESS_REQUESTS')).toEqual({
      reassignToId: FARID,
      lookupTrail: [],
    });
    const now = { startDate: '2030-06-01T00:00:00Z', endDate: null };
    await create(FARID, DEV, undefined, now);
    await create(DEV, GRACE, undefined, now);
    await create(GRACE, BEN, undefined, july); // not active yet: not followed
    const evaluated = await evaluateReassignmentConfiguration(client, FARID, 'ACCESS_REQUESTS');
    expect(evaluated).toEqual({
      reassignToId: GRACE,
      lookupTrail: [
        { reassignedFromId: FARID, reassignedToId: DEV, reassignmentType: 'AUTOMATIC_REASSIGNMENT' },
        { reassignedFromId: DEV, reassignedToId: GRACE, reassignmentType: 'AUTOMATIC_REASSIGNMENT' },
      ],
    });
    expect((await evaluateReassignmentConfiguration(client, FARID, 'CERTIFICATIONS')).reassignToId).toBe(
      FARID,
    );
  });

  it('is for user-context tokens only', async () => {
    const apiOnly = new SailPointClient({ apiUrl: sandbox.url, ...API_CLIENT, retry: { maxAttempts: 1 } });
    await expect(getReassignmentConfiguration(apiOnly, FARID)).rejects.toBeInstanceOf(SailPointAuthError);
  });
});
