import { type Sandbox, startSandbox } from '../../../sandbox/server';
import {
  API_CLIENT,
  PAT_CLIENT,
  expectErrorResponseDto,
  fetchToken,
  manualClock,
  member,
  seedWithMembers,
} from './helpers';

const MINUTE = 60_000;
const BASELINE_ROLE = 'acce5500000000000000000000000001';

describe('sandbox search: POST /v3/search (identities)', () => {
  let sandbox: Sandbox;
  let token: string;
  const clock = manualClock('2030-03-01T09:00:00Z');

  beforeAll(async () => {
    sandbox = await startSandbox({
      seed: seedWithMembers(30, () => [BASELINE_ROLE]),
      rateLimit: false,
      now: clock.now,
    });
    token = await fetchToken(sandbox, API_CLIENT); // Search is open to pure API clients
  });
  afterAll(() => sandbox.stop());

  const search = async (body: unknown, query = '') => {
    const response = await fetch(`${sandbox.url}/v3/search${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      total: response.headers.get('x-total-count'),
      body: (await response.json()) as Record<string, unknown>[] & Record<string, unknown>,
    };
  };
  const ids = (list: number[]) => list.map(member);
  const byIds = (identityIds: string[], extra: object = {}) => ({
    indices: ['identities'],
    query: { query: `id:(${identityIds.join(' OR ')})` },
    ...extra,
  });

  it('returns the matching identity documents, only the requested fields, and X-Total-Count with count=true', async () => {
    const { status, total, body } = await search(
      byIds([...ids([3, 1, 2]), 'ffff0000000000000000000000000000'], {
        queryResultFilter: { includes: ['id', 'modified', 'access.id', 'access.type'] },
        sort: ['id'],
      }),
      '?count=true',
    );
    expect(status).toBe(200);
    expect(total).toBe('3');
    expect(body).toEqual(
      ids([1, 2, 3]).map((id) => ({
        id,
        modified: '2030-02-19T09:00:00.000Z',
        access: [{ id: BASELINE_ROLE, type: 'ROLE' }],
      })),
    );
  });

  it('sends the whole document (the official IdentityDocuments shape) without a result filter', async () => {
    const { body } = await search(byIds([member(7)]));
    expect(body).toEqual([
      expect.objectContaining({
        id: member(7),
        name: 'member.7',
        displayName: 'Member 7',
        _type: 'identity',
        type: 'identity',
        _version: 'v2',
        pod: expect.any(String),
        org: expect.any(String),
        created: expect.any(String),
        modified: expect.any(String),
        access: [expect.objectContaining({ id: BASELINE_ROLE, type: 'ROLE', name: 'Employee Baseline' })],
        accessCount: 1,
      }),
    ]);
    expect((await search(byIds([member(7)], { includeNested: false }))).body[0]).not.toHaveProperty('access');
    const [trimmed] = (
      await search(byIds([member(7)], { queryResultFilter: { excludes: ['attributes', 'access.name'] } }))
    ).body as unknown as { attributes?: unknown; name?: string; access: Record<string, unknown>[] }[];
    expect(trimmed!.attributes).toBeUndefined();
    expect(trimmed!.name).toBe('member.7');
    expect(trimmed!.access).toEqual([expect.not.objectContaining({ name: expect.anything() })]);
    expect(trimmed!.access[0]).toMatchObject({ id: BASELINE_ROLE, type: 'ROLE' });
  });

  it('pages across more ids than one page holds: with offset, and with searchAfter on the sort', async () => {
    const wanted = ids(Array.from({ length: 25 }, (_, i) => i + 1));
    const request = byIds(wanted, { sort: ['id'], queryResultFilter: { includes: ['id'] } });

    const byOffset: string[] = [];
    for (let offset = 0; ; offset += 10) {
      const page = await search(request, `?limit=10&offset=${offset}&count=true`);
      expect(page.total).toBe('25');
      byOffset.push(...page.body.map((d) => d.id as string));
      if (page.body.length < 10) break;
    }
    expect(byOffset).toEqual(wanted);

    const byCursor: string[] = [];
    let searchAfter: string[] | undefined;
    for (let calls = 0; calls < 10; calls++) {
      const page = await search({ ...request, ...(searchAfter ? { searchAfter } : {}) }, '?limit=10');
      byCursor.push(...page.body.map((d) => d.id as string));
      if (page.body.length < 10) break;
      searchAfter = [byCursor.at(-1)!];
    }
    expect(byCursor).toEqual(wanted);

    const descending = await search({ ...request, sort: ['-id'] }, '?limit=3');
    expect(descending.body.map((d) => d.id)).toEqual(ids([25, 24, 23]));
  });

  it('understands id:X, id:"X", OR-ed clauses, fields: ["id"] and TERMS filters on id', async () => {
    const found = async (body: object) =>
      (await search({ indices: ['identities'], sort: ['id'], ...body })).body.map((d) => d.id);
    expect(await found({ query: { query: `id:${member(1)}` } })).toEqual([member(1)]);
    expect(
      await found({ query: { query: `id:"${member(2)}" OR id:(${member(3)} OR ${member(4)})` } }),
    ).toEqual(ids([2, 3, 4]));
    expect(await found({ query: { query: `(${member(5)} OR ${member(6)})`, fields: ['id'] } })).toEqual(
      ids([5, 6]),
    );
    expect(
      await found({ query: { query: '*' }, filters: { id: { type: 'TERMS', terms: ids([8, 9]) } } }),
    ).toEqual(ids([8, 9]));
    const all = await found({ query: { query: '*' } });
    expect(all).toHaveLength(20 + 30);
    expect(
      await found({
        query: { query: '*' },
        filters: { id: { type: 'TERMS', terms: ids([8]), exclude: true } },
      }),
    ).toEqual(all.filter((id) => id !== member(8)));
  });

  it("answers 400 (ErrorResponseDto) beyond the spec's limits and for what the sandbox does not serve", async () => {
    const tooMany = Array.from({ length: 801 }, (_, i) => `a${i}`);
    const cases: [object, string][] = [
      [byIds(ids([1])), '?limit=10001'],
      [byIds(ids([1])), '?limit=5000&offset=5001'],
      [byIds(ids([1])), '?count=yes'],
      [byIds(tooMany), ''],
      [byIds(ids([1]), { searchAfter: [member(1)] }), ''], // searchAfter without sort
      [byIds(ids([1]), { sort: ['attributes.city'] }), ''],
      [{ indices: ['roles'], query: { query: '*' } }, ''],
      [{ query: { query: '*' } }, ''], // all indices
      [{ indices: ['identities'], query: { query: 'name:john' } }, ''],
      [{ indices: ['identities'], queryType: 'DSL', queryDsl: { match: {} } }, ''],
      [{ indices: ['identities'], query: { query: '*' }, aggregations: {} }, ''],
      [{ indices: ['identities'], query: { query: '*' }, unknownField: 1 }, ''],
      [{ indices: ['identities'] }, ''],
    ];
    for (const [body, query] of cases) {
      const response = await search(body, query);
      expect({ body, query, status: response.status }).toEqual({ body, query, status: 400 });
      expectErrorResponseDto(response.body, '400.1 Bad Request Content');
    }
    expect((await search(byIds(tooMany.slice(0, 800)))).status).toBe(200);
  });

  it('applies the indexing lag: an identity created within the lag is not found yet', async () => {
    sandbox.state.identities.set(member(99), {
      ...sandbox.state.identities.get(member(1))!,
      id: member(99),
      created: clock.now().toISOString(),
    });
    expect((await search(byIds([member(99)]), '?count=true')).total).toBe('0');
    clock.advance(sandbox.state.search.lagMs);
    expect((await search(byIds([member(99)]), '?count=true')).total).toBe('1');
  });
});

describe('sandbox search: POST /v3/search and the rate limit', () => {
  it('counts against the v3 bucket of the client id', async () => {
    const sandbox = await startSandbox({ rateLimit: { limit: 2, windowMs: 10 * MINUTE } });
    try {
      const token = sandbox.issueToken(PAT_CLIENT.clientId);
      const post = (path: string, body: unknown) =>
        fetch(`${sandbox.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const query = { indices: ['identities'], query: { query: '*' } };
      expect((await post('/v3/search', query)).status).toBe(200);
      expect((await post('/v3/search', query)).status).toBe(200);
      const limited = await post('/v3/search', query);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // The beta bucket is separate.
      expect((await post('/beta/access-requests', {})).status).toBe(400);
      expect(sandbox.requestLog.count({ path: '/v3/search', apiVersion: 'v3' })).toBe(3);
    } finally {
      await sandbox.stop();
    }
  });
});
