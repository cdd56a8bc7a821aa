import {
  SailPointClient,
  SailPointNotFoundError,
  SailPointResponseError,
  SailPointServerError,
  SailPointValidationError,
  createAccessRequest,
  createReassignmentConfiguration,
  deletePersonalAccessToken,
  getIdentityDocument,
  listPersonalAccessTokens,
  type ApiRequest,
  type SailPointTransport,
} from '../../../functions/shared/sailpoint';
import { CLIENT_ID, CLIENT_SECRET, FakeSailPoint } from './fake-sailpoint';

let fake: FakeSailPoint;
let client: SailPointClient;

beforeEach(async () => {
  fake = new FakeSailPoint();
  const apiUrl = await fake.start();
  client = new SailPointClient({
    apiUrl,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    sleep: async () => {},
  });
});

afterEach(async () => {
  await fake.close();
});

const PAT = {
  id: '86f1dc6fe8f54414950454cbb11278fa',
  name: 'NodeJS Integration',
  scope: ['sp:scopes:all'],
  owner: { type: 'IDENTITY', id: '2c9180a46faadee4016fb4e018c20639', name: 'Support' },
  created: '2017-07-11T18:45:37.098Z',
  lastUsed: '2017-07-11T18:45:37.098Z',
  managed: false,
};

describe('personal access tokens', () => {
  it('lists with owner-id and filters, normalizing lastUsed/scope/managed and keeping unknown fields', async () => {
    fake.on('GET', '/beta/personal-access-tokens', () => ({
      status: 200,
      json: [
        {
          ...PAT,
          accessTokenValiditySeconds: 36900,
          expirationDate: '2018-01-11T18:45:37.098Z',
          newField: 1,
        },
        { ...PAT, id: 'b', lastUsed: null, scope: null, managed: undefined },
        { id: 'c', name: 'no lastUsed', scope: null, owner: { id: 'o' }, created: '2020-01-01T00:00:00Z' },
      ],
    }));

    const tokens = await listPersonalAccessTokens(client, {
      ownerId: 'owner-1',
      filters: 'lastUsed le 2023-02-05T10:59:27.214Z',
    });

    const request = fake.apiRequests[0]!;
    expect(request.query.get('owner-id')).toBe('owner-1');
    expect(request.query.get('filters')).toBe('lastUsed le 2023-02-05T10:59:27.214Z');
    expect(tokens).toHaveLength(3);
    expect(tokens[0]).toMatchObject({
      id: PAT.id,
      managed: false,
      accessTokenValiditySeconds: 36900,
      newField: 1,
    });
    expect(tokens[1]).toMatchObject({ lastUsed: null, scope: null, managed: false });
    expect(tokens[2]).toMatchObject({ lastUsed: null, managed: false, owner: { id: 'o' } });
  });

  it('lists every token of the tenant when no owner is given (no query string)', async () => {
    fake.on('GET', '/beta/personal-access-tokens', () => ({ status: 200, json: [] }));
    await expect(listPersonalAccessTokens(client)).resolves.toEqual([]);
    expect(fake.apiRequests[0]!.rawUrl).toBe('/beta/personal-access-tokens');
  });

  it('refuses an unreadable date rather than letting it become NaN downstream', async () => {
    fake.on('GET', '/beta/personal-access-tokens', () => ({
      status: 200,
      json: [{ ...PAT, lastUsed: 'yesterday' }],
    }));
    const error = await listPersonalAccessTokens(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SailPointResponseError);
    expect((error as SailPointResponseError).issues[0]!.path).toBe('0.lastUsed');
  });

  it('deletes by id (path-encoded), 204 → void; 404 is SailPointNotFoundError', async () => {
    fake.on('DELETE', '/beta/personal-access-tokens/abc%2F1', () => ({ status: 204 }));
    await expect(deletePersonalAccessToken(client, 'abc/1')).resolves.toBeUndefined();
    expect(fake.apiRequests[0]!.method).toBe('DELETE');

    await expect(deletePersonalAccessToken(client, 'missing')).rejects.toBeInstanceOf(SailPointNotFoundError);
  });
});

describe('search', () => {
  it('reads an identity document: manager null, access items with unknown types, extra fields kept', async () => {
    fake.on('GET', '/v3/search/identities/2c9180865c45e7e3015c46c434a80622', () => ({
      status: 200,
      json: {
        id: '2c9180865c45e7e3015c46c434a80622',
        name: 'ad.admin',
        _type: 'identity',
        displayName: 'AD Admin',
        email: 'ad.admin@example.com',
        manager: null,
        attributes: { department: 'IT' },
        access: [
          {
            id: 'ap1',
            name: 'test',
            displayName: 'test',
            type: 'ACCESS_PROFILE',
            description: null,
            source: { id: 's1', name: 'AD' },
          },
          { id: 'e1', name: 'Administrators', type: 'ENTITLEMENT', privileged: false },
          { id: 'x1', type: 'SOMETHING_NEW' },
        ],
      },
    }));

    const doc = await getIdentityDocument(client, '2c9180865c45e7e3015c46c434a80622');

    expect(doc.manager).toBeNull();
    expect(doc.access.map((a) => a.type)).toEqual(['ACCESS_PROFILE', 'ENTITLEMENT', 'SOMETHING_NEW']);
    expect(doc.attributes).toEqual({ department: 'IT' });
  });

  it('defaults access to [] and reads a manager reference', async () => {
    fake.on('GET', '/v3/search/identities/i2', () => ({
      status: 200,
      json: { id: 'i2', name: 'jane', manager: { id: 'm1', name: 'boss', displayName: 'The Boss' } },
    }));
    const doc = await getIdentityDocument(client, 'i2');
    expect(doc.access).toEqual([]);
    expect(doc.manager).toEqual({ id: 'm1', name: 'boss', displayName: 'The Boss' });
  });
});

describe('access requests', () => {
  const body = {
    requestedFor: ['2c918084660f45d6016617daa9210584'],
    requestedItems: [{ type: 'ROLE' as const, id: '2c9180835d2e5168015d32f890ca1581', comment: 'needed' }],
  };

  it('posts the body with requestType defaulting to GRANT_ACCESS and parses an empty {} 202', async () => {
    fake.on('POST', '/beta/access-requests', () => ({ status: 202, json: {} }));
    await expect(createAccessRequest(client, body)).resolves.toEqual({
      newRequests: [],
      existingRequests: [],
    });
    expect(JSON.parse(fake.apiRequests[0]!.body)).toEqual({ ...body, requestType: 'GRANT_ACCESS' });
  });

  it('accepts a 202 without a body, and the newer tracking response', async () => {
    fake.sequence(
      'POST',
      '/beta/access-requests',
      { status: 202 },
      {
        status: 202,
        json: {
          newRequests: [
            {
              requestedFor: 'u1',
              requestedItemsDetails: [{ type: 'ROLE', id: 'r1' }],
              attributesHash: -1,
              accessRequestIds: ['ar1'],
            },
          ],
          existingRequests: [{ requestedFor: 'u1', accessRequestIds: ['ar0'] }],
        },
      },
    );
    await expect(createAccessRequest(client, body)).resolves.toEqual({
      newRequests: [],
      existingRequests: [],
    });
    const second = await createAccessRequest(client, body);
    expect(second.newRequests[0]!.accessRequestIds).toEqual(['ar1']);
    expect(second.existingRequests[0]!.accessRequestIds).toEqual(['ar0']);
  });

  it('refuses a malformed body locally without calling SailPoint', async () => {
    const error = await createAccessRequest(client, {
      requestedFor: [],
      requestedItems: [{ type: 'GROUP' as never, id: 'x' }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SailPointValidationError);
    expect((error as SailPointValidationError).status).toBeUndefined();
    expect((error as SailPointValidationError).messages.join(' ')).toMatch(/requestedFor/);
    expect(fake.requests).toHaveLength(0);
  });

  it('is not re-sent on 5xx', async () => {
    fake.on('POST', '/beta/access-requests', () => ({ status: 503 }));
    await expect(createAccessRequest(client, body)).rejects.toBeInstanceOf(SailPointServerError);
    expect(fake.apiRequests).toHaveLength(1);
  });
});

describe('reassignment configurations', () => {
  it('creates a configuration and parses the 201, tolerating unknown config types', async () => {
    fake.on('POST', '/beta/reassignment-configurations', () => ({
      status: 201,
      json: {
        identity: { id: 'from', name: 'William Wilson' },
        configDetails: [
          {
            configType: 'ACCESS_REQUESTS',
            targetIdentity: { id: 'to', name: 'Jane' },
            startDate: '2022-07-21T11:13:12.345Z',
            endDate: '',
            auditDetails: { created: '2022-07-21T11:13:12.345Z', createdBy: { id: 'admin', name: 'Admin' } },
          },
          { configType: 'FUTURE_WORK_TYPE', targetIdentity: { id: 'to' } },
        ],
      },
    }));

    const created = await createReassignmentConfiguration(client, {
      reassignedFromId: 'from',
      reassignedToId: 'to',
      configType: 'ACCESS_REQUESTS',
      startDate: '2022-07-21T11:13:12.345Z',
      endDate: null,
    });

    expect(JSON.parse(fake.apiRequests[0]!.body)).toEqual({
      reassignedFromId: 'from',
      reassignedToId: 'to',
      configType: 'ACCESS_REQUESTS',
      startDate: '2022-07-21T11:13:12.345Z',
      endDate: null,
    });
    expect(created.identity.id).toBe('from');
    expect(created.configDetails.map((d) => d.configType)).toEqual(['ACCESS_REQUESTS', 'FUTURE_WORK_TYPE']);
  });

  it('refuses an unknown config type in the request body', async () => {
    const error = await createReassignmentConfiguration(client, {
      reassignedFromId: 'from',
      reassignedToId: 'to',
      configType: 'EVERYTHING' as never,
      startDate: '2022-07-21T11:13:12.345Z',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SailPointValidationError);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('transport seam', () => {
  it('API functions accept any SailPointTransport (a fake without HTTP)', async () => {
    const sent: ApiRequest<unknown>[] = [];
    const transport: SailPointTransport = {
      send: async <T>(request: ApiRequest<T>) => {
        sent.push(request as ApiRequest<unknown>);
        return request.responseSchema.parse([]);
      },
    };
    await expect(listPersonalAccessTokens(transport, { ownerId: 'me' })).resolves.toEqual([]);
    expect(sent[0]).toMatchObject({
      operation: 'listPersonalAccessTokens',
      method: 'GET',
      query: { 'owner-id': 'me' },
    });
  });
});
