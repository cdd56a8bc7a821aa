/**
 * Issue #10, "Contract against the current API": response schemas parse strictly what a decision
 * depends on and tolerate the rest — an unreadable field no workflow reads does not fail a whole list,
 * and fields the spec leaves optional may be missing.
 */
import {
  SailPointClient,
  SailPointResponseError,
  createAccessRequest,
  getIdentityDocument,
  listAccessRequestStatus,
  listPersonalAccessTokens,
} from '../../../functions/shared/sailpoint';
import { trackedRequests } from '../../../functions/access-provisioning/gateway';
import { CLIENT_ID, CLIENT_SECRET, FakeSailPoint } from './fake-sailpoint';

let fake: FakeSailPoint;
let client: SailPointClient;

beforeEach(async () => {
  fake = new FakeSailPoint();
  client = new SailPointClient({
    apiUrl: await fake.start(),
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    sleep: async () => {},
  });
});
afterEach(async () => fake.close());

const PAT = {
  id: '86f1dc6fe8f54414950454cbb11278fa',
  name: 'NodeJS Integration',
  scope: null,
  owner: { type: 'IDENTITY', id: '2c9180a46faadee4016fb4e018c20639', name: 'Support' },
  created: '2017-07-11T18:45:37.098Z',
  lastUsed: null,
};

describe('lenient response schemas', () => {
  it('lists PATs whose expirationDate or accessTokenValiditySeconds cannot be read, or whose owner has no id', async () => {
    fake.on('GET', '/beta/personal-access-tokens', () => ({
      status: 200,
      json: [
        { ...PAT, expirationDate: 'in six months', accessTokenValiditySeconds: null },
        { ...PAT, id: 'b', accessTokenValiditySeconds: 'a while', managed: null },
        { ...PAT, id: 'c', owner: { type: 'IDENTITY', name: 'Former owner' } },
      ],
    }));
    const tokens = await listPersonalAccessTokens(client);
    expect(tokens.map((t) => t.id)).toEqual([PAT.id, 'b', 'c']);
    expect(tokens[0]).toMatchObject({ expirationDate: null, accessTokenValiditySeconds: null });
    expect(tokens[1]).toMatchObject({ accessTokenValiditySeconds: null, managed: false });
    expect(tokens[2]!.owner.id).toBeUndefined();
  });

  it('still refuses what a decision reads: an unreadable created or lastUsed', async () => {
    fake.on('GET', '/beta/personal-access-tokens', () => ({
      status: 200,
      json: [{ ...PAT, created: 'long ago' }],
    }));
    await expect(listPersonalAccessTokens(client)).rejects.toBeInstanceOf(SailPointResponseError);
  });

  it('reads a 202 whose tracking items lack type or id, and attributes only the items it can', async () => {
    fake.on('POST', '/beta/access-requests', () => ({
      status: 202,
      json: {
        newRequests: [
          {
            requestedFor: 'u1',
            requestedItemsDetails: [{ type: 'ROLE', id: 'r1' }, { type: 'ROLE' }, {}],
            accessRequestIds: ['a1'],
          },
        ],
      },
    }));
    const accepted = await createAccessRequest(client, {
      requestedFor: ['u1'],
      requestedItems: [{ type: 'ROLE', id: 'r1' }],
    });
    expect(trackedRequests(accepted)).toEqual([
      { requestedFor: 'u1', itemType: 'ROLE', itemId: 'r1', accessRequestIds: ['a1'], existing: false },
    ]);
  });

  it('reads status entries with optional fields missing; a created it cannot read fails the read', async () => {
    fake.sequence(
      'GET',
      '/v3/access-request-status',
      {
        status: 200,
        json: [
          {
            id: 'a1',
            created: '2030-01-01T00:00:00Z',
            modified: 'unknown',
            requestedFor: { type: 'IDENTITY' },
          },
        ],
      },
      { status: 200, json: [{ id: 'a1', created: 'yesterday' }] },
    );
    const [entry] = await listAccessRequestStatus(client, { requestedFor: 'u1' });
    expect(entry).toMatchObject({ id: 'a1', modified: 'unknown' });
    await expect(listAccessRequestStatus(client, { requestedFor: 'u1' })).rejects.toBeInstanceOf(
      SailPointResponseError,
    );
  });

  it('reads an identity document whose manager or access items have no id', async () => {
    fake.on('GET', '/v3/search/identities/i1', () => ({
      status: 200,
      json: { id: 'i1', name: 'jane', manager: { name: 'boss' }, access: [{ type: 'ROLE', name: 'No id' }] },
    }));
    const doc = await getIdentityDocument(client, 'i1');
    expect(doc.manager).toEqual({ name: 'boss' });
    expect(doc.access[0]!.id).toBeUndefined();
  });
});
