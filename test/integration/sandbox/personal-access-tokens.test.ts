import { DEFAULT_SEED_IDS, loadDefaultSeed } from '../../../sandbox/seed';
import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { API_CLIENT, expectErrorResponseDto, fetchToken, get } from './helpers';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const daysBefore = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();
const PATS = '/beta/personal-access-tokens';
const seed = loadDefaultSeed();
const ids = DEFAULT_SEED_IDS.personalAccessTokens;

interface Pat {
  id: string;
  name: string;
  scope: string[] | null;
  owner: { type: string; id: string; name: string };
  created: string;
  lastUsed: string | null;
  managed: boolean;
}

describe('sandbox personal access tokens', () => {
  let sandbox: Sandbox;
  let token: string;

  const list = async (query: Record<string, string> = {}, bearer = token) => {
    const response = await get(sandbox, `${PATS}?${new URLSearchParams(query)}`, bearer);
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const listIds = async (query: Record<string, string>) => {
    const { status, body } = await list(query);
    expect(status).toBe(200);
    return (body as Pat[]).map((p) => p.id).sort();
  };

  beforeEach(async () => {
    sandbox = await startSandbox({ now: () => NOW });
    token = await fetchToken(sandbox);
  });
  afterEach(() => sandbox.stop());

  it('lists every token of the tenant, in the documented shape, without paging', async () => {
    const { status, body } = await list();
    expect(status).toBe(200);
    const pats = body as Pat[];
    expect(pats).toHaveLength(seed.personalAccessTokens.length);
    expect(pats.find((p) => p.id === ids.lastUsed75Days)).toEqual({
      id: ids.lastUsed75Days,
      name: 'Deploy bot',
      scope: ['sp:scopes:all'],
      owner: { type: 'IDENTITY', id: '2c9180aa000000000000000000000004', name: 'Dev Patel' },
      created: daysBefore(260),
      lastUsed: daysBefore(75),
      managed: false,
    });
  });

  it('filters with lastUsed le <date>: never-used tokens do not match', async () => {
    const expected = seed.personalAccessTokens
      .filter((p) => p.lastUsedDaysAgo !== null && p.lastUsedDaysAgo >= 90)
      .map((p) => p.id)
      .sort();
    const got = await listIds({ filters: `lastUsed le ${daysBefore(90)}` });
    expect(got).toEqual(expected);
    expect(got).toContain(ids.lastUsed90Days);
    expect(got).toContain(ids.managedStale);
    expect(got).not.toContain('7a700000000000000000000000000010'); // 89 days
    expect(got).not.toContain(ids.neverUsedOld);
  });

  it('filters with lastUsed isnull, and with both joined by or', async () => {
    const never = seed.personalAccessTokens.filter((p) => p.lastUsedDaysAgo === null).map((p) => p.id);
    expect(await listIds({ filters: 'lastUsed isnull' })).toEqual([...never].sort());
    expect(never).toEqual(expect.arrayContaining([ids.neverUsedNew, ids.neverUsedOld]));

    const stale = seed.personalAccessTokens
      .filter((p) => p.lastUsedDaysAgo === null || p.lastUsedDaysAgo >= 75)
      .map((p) => p.id);
    const quoted = `lastUsed le "${daysBefore(75)}" or lastUsed isnull`;
    expect(await listIds({ filters: quoted })).toEqual([...stale].sort());
  });

  it('lists one owner by owner-id, and the caller by owner-id=me', async () => {
    const owner = '2c9180aa000000000000000000000018';
    const owned = seed.personalAccessTokens.filter((p) => p.ownerId === owner).map((p) => p.id);
    expect(await listIds({ 'owner-id': owner })).toEqual([...owned].sort());
    const mine = seed.personalAccessTokens.filter((p) => p.ownerId === DEFAULT_SEED_IDS.identities.iamAdmin);
    expect(await listIds({ 'owner-id': 'me' })).toEqual(mine.map((p) => p.id).sort());
    expect(await listIds({ 'owner-id': 'no-such-identity' })).toEqual([]);
  });

  it('shows managed tokens only to a caller holding idn:managed-personal-access-tokens:read', async () => {
    await sandbox.stop();
    sandbox = await startSandbox({
      now: () => NOW,
      clients: [
        { clientId: 'plain-user', clientSecret: 's', identityId: DEFAULT_SEED_IDS.identities.iamAdmin },
        {
          clientId: 'managed-reader',
          clientSecret: 's',
          identityId: DEFAULT_SEED_IDS.identities.iamAdmin,
          authorities: ['ORG_ADMIN', 'idn:managed-personal-access-tokens:read'],
        },
      ],
    });
    const plain = (await list({}, await fetchToken(sandbox, { clientId: 'plain-user', clientSecret: 's' })))
      .body as Pat[];
    expect(plain.some((p) => p.managed)).toBe(false);
    expect(plain).toHaveLength(seed.personalAccessTokens.filter((p) => !p.managed).length);
    const all = (await list({}, await fetchToken(sandbox, { clientId: 'managed-reader', clientSecret: 's' })))
      .body as Pat[];
    expect(all.map((p) => p.id)).toEqual(expect.arrayContaining([ids.managedRecent, ids.managedStale]));
  });

  it.each([
    ['bad syntax', 'lastUsed le'],
    ['upper-case operator', `lastUsed LE ${daysBefore(1)}`],
    ['unbalanced parenthesis', '(lastUsed isnull'],
    ['disallowed field', 'name eq "CI pipeline"'],
    ['disallowed operator', `lastUsed ge ${daysBefore(1)}`],
    ['disallowed operator (pr)', 'pr lastUsed'],
    ['not a date', 'lastUsed le yesterday'],
  ])('answers 400 ErrorResponseDto to an invalid filter (%s)', async (_case, filters) => {
    const { status, body } = await list({ filters });
    expect(status).toBe(400);
    expectErrorResponseDto(body, '400.1 Bad Request Content');
  });

  it('answers 403 to a pure API client (the endpoints need a user context)', async () => {
    const apiToken = await fetchToken(sandbox, API_CLIENT);
    const { status, body } = await list({}, apiToken);
    expect(status).toBe(403);
    expectErrorResponseDto(body, '403 Forbidden');
    const del = await get(sandbox, `${PATS}/${ids.usedToday}`, apiToken, { method: 'DELETE' });
    expect(del.status).toBe(403);
    expect(sandbox.state.personalAccessTokens.has(ids.usedToday)).toBe(true);
  });

  it('deletes a token with 204, then answers 404 for it', async () => {
    const first = await get(sandbox, `${PATS}/${ids.neverUsedOld}`, token, { method: 'DELETE' });
    expect(first.status).toBe(204);
    expect(await first.text()).toBe('');
    expect(sandbox.state.personalAccessTokens.has(ids.neverUsedOld)).toBe(false);
    expect(await listIds({})).not.toContain(ids.neverUsedOld);

    const second = await get(sandbox, `${PATS}/${ids.neverUsedOld}`, token, { method: 'DELETE' });
    expect(second.status).toBe(404);
    expectErrorResponseDto(await second.json(), '404 Not found');
  });

  it('serves what tests put into the state', async () => {
    sandbox.state.personalAccessTokens.set('test-pat', {
      id: 'test-pat',
      name: 'Added by a test',
      scope: null,
      owner: { type: 'IDENTITY', id: 'someone', name: 'Some One' },
      created: daysBefore(500),
      lastUsed: daysBefore(400),
      managed: false,
    });
    expect(await listIds({ 'owner-id': 'someone', filters: `lastUsed le ${daysBefore(90)}` })).toEqual([
      'test-pat',
    ]);
  });
});
