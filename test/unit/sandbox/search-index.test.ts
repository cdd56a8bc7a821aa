import { createSearchIndex, indexedIdentity, recordAccessChange } from '../../../sandbox/search-index';
import type { SandboxAccessRef, SandboxIdentity } from '../../../sandbox/state';

const ref = (id: string): SandboxAccessRef => ({ id, type: 'ROLE', name: id });
const T0 = Date.parse('2030-01-01T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

function identity(access: string[]): SandboxIdentity {
  return {
    id: 'i1',
    name: 'i1',
    displayName: 'I 1',
    firstName: 'I',
    lastName: '1',
    email: null,
    inactive: false,
    status: 'ACTIVE',
    created: at(-60).toISOString(),
    attributes: {},
    access: access.map(ref),
  };
}

describe('sandbox Search index lag', () => {
  it('undoes the changes younger than the lag, newest first, and dates the document by the last one shown', () => {
    const index = createSearchIndex(10 * 60_000);
    // System of record: a held, then b added (t=0), a removed (t=5), b removed and re-added (t=8, t=9).
    recordAccessChange(index, 'i1', 'added', ref('b'), at(0));
    recordAccessChange(index, 'i1', 'removed', ref('a'), at(5));
    recordAccessChange(index, 'i1', 'removed', ref('b'), at(8));
    recordAccessChange(index, 'i1', 'added', ref('b'), at(9));
    const now = identity(['b']);
    const view = (minute: number) => {
      const v = indexedIdentity(index, now, at(minute))!;
      return { access: v.access.map((a) => a.id).sort(), modified: v.modified };
    };
    expect(view(5)).toEqual({ access: ['a'], modified: at(-60).toISOString() });
    expect(view(10)).toEqual({ access: ['a', 'b'], modified: at(0).toISOString() });
    expect(view(15)).toEqual({ access: ['b'], modified: at(5).toISOString() });
    expect(view(18)).toEqual({ access: [], modified: at(8).toISOString() });
    expect(view(19)).toEqual({ access: ['b'], modified: at(9).toISOString() });
    index.lagMs = 0;
    expect(view(9)).toEqual({ access: ['b'], modified: at(9).toISOString() });
  });

  it('indexes an identity once its creation is older than the lag', () => {
    const index = createSearchIndex(60_000);
    const fresh = { ...identity([]), created: at(0).toISOString() };
    expect(indexedIdentity(index, fresh, new Date(T0 + 59_999))).toBeUndefined();
    expect(indexedIdentity(index, fresh, new Date(T0 + 60_000))).toBeDefined();
  });
});
