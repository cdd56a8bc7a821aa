import {
  identitySearchCalls,
  searchIdentityAccess,
  type ApiRequest,
  type SailPointTransport,
  SailPointValidationError,
} from '../../../functions/shared/sailpoint';
import * as z from 'zod';

interface SearchBody {
  query: { query: string };
  sort: string[];
  searchAfter?: string[];
  queryResultFilter: { includes: string[] };
}

/** A Search stand-in over `docs` (by id): parses the id query, sorts by id, pages by limit/searchAfter. */
function fakeSearch(docs: Record<string, unknown>[]) {
  const calls: { limit: number; body: SearchBody; idempotent?: boolean }[] = [];
  const transport: SailPointTransport = {
    async send<T>(request: ApiRequest<T>): Promise<T> {
      const body = request.body as SearchBody;
      const limit = Number(request.query?.limit);
      calls.push({ limit, body, idempotent: request.idempotent });
      const ids = new Set([...body.query.query.matchAll(/"([^"]+)"/g)].map((m) => m[1]!));
      const after = body.searchAfter?.[0] ?? '';
      const page = docs
        .filter((d) => ids.has(d.id as string) && (d.id as string) > after)
        .sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1))
        .slice(0, limit);
      return request.responseSchema.parse(page);
    },
  };
  return { transport, calls };
}

const id = (n: number) => `id${String(n).padStart(4, '0')}`;
const doc = (n: number, extra: object = {}) => ({
  id: id(n),
  modified: '2030-01-01T00:00:00.000Z',
  access: [{ id: `role-${n}`, type: 'ROLE', name: 'kept but unused' }],
  ...extra,
});

describe('searchIdentityAccess (POST /v3/search, many identities per call)', () => {
  it('asks for the ids, only the fields a decision needs, sorted by id, as an idempotent read', async () => {
    const { transport, calls } = fakeSearch([doc(1), doc(2)]);
    const found = await searchIdentityAccess(transport, [id(2), id(1), id(2)]);
    expect([...found.keys()].sort()).toEqual([id(1), id(2)]);
    expect(found.get(id(1))).toMatchObject({
      id: id(1),
      modified: '2030-01-01T00:00:00.000Z',
      access: [{ id: 'role-1', type: 'ROLE' }],
    });
    expect(calls).toEqual([
      {
        limit: 250,
        idempotent: true,
        body: {
          indices: ['identities'],
          query: { query: `id:("${id(2)}" OR "${id(1)}")` },
          queryResultFilter: { includes: ['id', 'modified', 'access.id', 'access.type'] },
          sort: ['id'],
        },
      },
    ]);
  });

  it('pages with searchAfter when a query matches more than a page, and splits the ids over queries', async () => {
    const docs = Array.from({ length: 23 }, (_, n) => doc(n));
    const { transport, calls } = fakeSearch(docs);
    const wanted = [...docs.map((d) => d.id as string), 'unknown-1', 'unknown-2'];
    const found = await searchIdentityAccess(transport, wanted, { pageSize: 5, idsPerQuery: 12 });
    expect([...found.keys()].sort()).toEqual(docs.map((d) => d.id).sort());
    // Query 1: 12 ids (all found) in pages of 5, 5, 2; query 2: 11 found + 2 unknown in 5, 5, 1.
    expect(calls.map((c) => c.body.searchAfter?.[0])).toEqual([
      undefined,
      id(4),
      id(9),
      undefined,
      id(16),
      id(21),
    ]);
    expect(calls).toHaveLength(identitySearchCalls(wanted.length, { pageSize: 5, idsPerQuery: 12 }));
  });

  it('stops after a full last page when every id of the query was found (no empty extra call)', async () => {
    const { transport, calls } = fakeSearch([doc(1), doc(2), doc(3), doc(4)]);
    await searchIdentityAccess(transport, [id(1), id(2), id(3), id(4)], { pageSize: 2 });
    expect(calls).toHaveLength(2);
  });

  it('reads strictly what a decision needs and tolerates the rest', async () => {
    const tolerant = fakeSearch([doc(1, { manager: { name: 'no id' }, access: null, extra: 1 })]);
    expect((await searchIdentityAccess(tolerant.transport, [id(1)])).get(id(1))!.access).toEqual([]);
    for (const broken of [
      doc(1, { modified: 'yesterday' }),
      doc(1, { modified: undefined }),
      doc(1, { access: [{ type: 'ROLE' }] }),
      doc(1, { access: [{ id: 'x' }] }),
    ]) {
      const { transport } = fakeSearch([broken]);
      await expect(searchIdentityAccess(transport, [id(1)])).rejects.toBeInstanceOf(z.ZodError);
    }
  });

  it('refuses an id that could break out of the query, and bad paging options, before sending', async () => {
    const { transport, calls } = fakeSearch([]);
    for (const bad of ['a"b', 'a b', 'a)', 'a\\b', '']) {
      await expect(searchIdentityAccess(transport, [bad])).rejects.toBeInstanceOf(SailPointValidationError);
    }
    await expect(searchIdentityAccess(transport, ['a'], { pageSize: 10_001 })).rejects.toThrow(/pageSize/);
    await expect(searchIdentityAccess(transport, ['a'], { idsPerQuery: 801 })).rejects.toThrow(/idsPerQuery/);
    expect(calls).toHaveLength(0);
    expect(await searchIdentityAccess(transport, [])).toEqual(new Map());
  });

  it('counts the calls a workload needs: one per query when a page holds it', () => {
    expect(identitySearchCalls(0)).toBe(0);
    expect(identitySearchCalls(2000)).toBe(8); // 250 per page and query
    expect(identitySearchCalls(2000, { pageSize: 800 })).toBe(3);
    expect(identitySearchCalls(2000, { pageSize: 100, idsPerQuery: 800 })).toBe(20);
    expect(identitySearchCalls(801, { pageSize: 10_000 })).toBe(2); // 800 ids per query at most
  });
});
