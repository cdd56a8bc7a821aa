import { z } from 'zod';
import { DEFAULT_SEED_IDS, type SandboxSeed, loadDefaultSeed, parseSeed } from '../../../sandbox/seed';
import { createSandboxState } from '../../../sandbox/state';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const DAY = 86_400_000;

function tinySeed(): SandboxSeed {
  return {
    tenant: { name: 't', tenantId: 't-id', pod: 'p', org: 'o' },
    sources: [{ id: 's1', name: 'AD' }],
    accessItems: [{ id: 'a1', type: 'ENTITLEMENT', name: 'CN=Admins', sourceId: 's1' }],
    identities: [
      {
        id: 'boss',
        name: 'boss',
        firstName: 'B',
        lastName: 'Oss',
        displayName: 'B Oss',
        email: 'b@example.com',
      },
      {
        id: 'dev',
        name: 'dev',
        firstName: 'D',
        lastName: 'Ev',
        displayName: 'D Ev',
        email: 'd@example.com',
        managerId: 'boss',
        access: ['a1'],
      },
    ],
    personalAccessTokens: [
      { id: 'p1', name: 'CI', scope: null, ownerId: 'dev', createdDaysAgo: 100, lastUsedDaysAgo: 90 },
      {
        id: 'p2',
        name: 'CI',
        scope: ['sp:scopes:all'],
        ownerId: 'boss',
        createdDaysAgo: 10,
        lastUsedDaysAgo: null,
      },
    ],
    clients: [{ clientId: 'c', clientSecret: 's', identityId: 'dev' }],
  };
}

function issuesOf(seed: unknown): string[] {
  try {
    parseSeed(seed);
  } catch (error) {
    return (error as z.ZodError).issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }
  return [];
}

describe('sandbox seed', () => {
  it('the default fixture is valid and has what the brief and the demos rely on', () => {
    const seed = loadDefaultSeed();
    expect(seed.identities.length).toBeGreaterThanOrEqual(20);
    expect(seed.personalAccessTokens.length).toBeGreaterThanOrEqual(50);
    expect(seed.clients).toEqual([
      expect.objectContaining({
        ...DEFAULT_SEED_IDS.clients.pat,
        identityId: DEFAULT_SEED_IDS.identities.iamAdmin,
      }),
      expect.not.objectContaining({ identityId: expect.anything() }),
    ]);
    expect(seed.clients[1]).toMatchObject(DEFAULT_SEED_IDS.clients.api);

    const ids = new Set(seed.identities.map((i) => i.id));
    for (const id of Object.values(DEFAULT_SEED_IDS.identities)) expect(ids).toContain(id);
    const patIds = new Set(seed.personalAccessTokens.map((p) => p.id));
    for (const id of Object.values(DEFAULT_SEED_IDS.personalAccessTokens)) expect(patIds).toContain(id);

    // A tree with managers of managers.
    const managers = new Set(seed.identities.map((i) => i.managerId).filter((m): m is string => m !== null));
    expect(managers.size).toBeGreaterThanOrEqual(5);
    expect(seed.identities.filter((i) => i.managerId === null).length).toBeGreaterThanOrEqual(1);

    // Varied token ages, including both sides of the 75- and 90-day marks, never-used and managed ones.
    const ages = seed.personalAccessTokens.map((p) => p.lastUsedDaysAgo);
    for (const age of [0, 1, 74, 75, 76, 89, 90, 91, null]) expect(ages).toContain(age);
    expect(seed.personalAccessTokens.filter((p) => p.managed).length).toBeGreaterThanOrEqual(3);
    expect(new Set(seed.personalAccessTokens.map((p) => p.ownerId)).size).toBeGreaterThanOrEqual(15);
  });

  it('returns a fresh copy each time', () => {
    const a = loadDefaultSeed();
    a.identities[0]!.name = 'changed';
    expect(loadDefaultSeed().identities[0]!.name).not.toBe('changed');
  });

  it('accepts a minimal seed and fills defaults', () => {
    const parsed = parseSeed(tinySeed());
    expect(parsed.identities[0]).toMatchObject({
      managerId: null,
      inactive: false,
      access: [],
      attributes: {},
    });
    expect(parsed.personalAccessTokens[0]!.managed).toBe(false);
  });

  it.each<[string, (seed: SandboxSeed) => void, RegExp]>([
    ['an unknown manager', (s) => void (s.identities[1]!.managerId = 'ghost'), /unknown manager ghost/],
    ['a manager cycle', (s) => void (s.identities[0]!.managerId = 'dev'), /manager cycle/],
    ['a self-managed identity', (s) => void (s.identities[0]!.managerId = 'boss'), /manager cycle/],
    [
      'an unknown token owner',
      (s) => void (s.personalAccessTokens![0]!.ownerId = 'ghost'),
      /unknown owner ghost/,
    ],
    [
      'use before creation',
      (s) => void (s.personalAccessTokens![0]!.lastUsedDaysAgo = 101),
      /before it was created/,
    ],
    ['a duplicate identity id', (s) => void (s.identities[1]!.id = 'boss'), /duplicate id boss/],
    [
      'a duplicate token name per owner',
      (s) => void (s.personalAccessTokens![1]!.ownerId = 'dev'),
      /duplicate name/,
    ],
    ['an unknown access item', (s) => void s.identities[0]!.access!.push('nope'), /unknown access item nope/],
    ['an unknown source', (s) => void (s.accessItems![0]!.sourceId = 'nope'), /unknown source nope/],
    [
      'an unknown client identity',
      (s) => void (s.clients![0]!.identityId = 'ghost'),
      /unknown identity ghost/,
    ],
    ['a bad email', (s) => void (s.identities[0]!.email = 'not-an-email'), /email/],
    ['a negative age', (s) => void (s.personalAccessTokens![0]!.createdDaysAgo = -1), /createdDaysAgo/],
    ['a bad access type', (s) => void ((s.accessItems![0] as { type: string }).type = 'GROUP'), /type/],
  ])('rejects %s', (_case, breakIt, message) => {
    const seed = tinySeed();
    seed.identities[0]!.access = [];
    breakIt(seed);
    expect(issuesOf(seed).join('\n')).toMatch(message);
  });

  it('resolves relative days against the clock when the state is built', () => {
    const parsed = parseSeed(tinySeed());
    const state = createSandboxState(parsed, parsed.clients, NOW);
    expect(state.personalAccessTokens.get('p1')).toEqual({
      id: 'p1',
      name: 'CI',
      scope: null,
      owner: { type: 'IDENTITY', id: 'dev', name: 'D Ev' },
      created: new Date(NOW.getTime() - 100 * DAY).toISOString(),
      lastUsed: new Date(NOW.getTime() - 90 * DAY).toISOString(),
      managed: false,
    });
    expect(state.personalAccessTokens.get('p2')!.lastUsed).toBeNull();
    expect(state.identities.get('dev')).toMatchObject({
      managerId: 'boss',
      status: 'ACTIVE',
      access: [{ id: 'a1', type: 'ENTITLEMENT', name: 'CN=Admins', source: { id: 's1', name: 'AD' } }],
    });
    expect(state.identities.get('boss')).not.toHaveProperty('managerId');
    expect(state.clients.get('c')).toEqual({ clientId: 'c', clientSecret: 's', identityId: 'dev' });
  });
});
