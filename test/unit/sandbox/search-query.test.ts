import { parseIdQuery } from '../../../sandbox/sailpoint/search-query';

describe('sandbox POST /v3/search id queries', () => {
  it('reads *, id clauses and bare terms on fields ["id"]', () => {
    expect(parseIdQuery('*', undefined)).toBeUndefined();
    expect(parseIdQuery('id:a1', undefined)).toEqual(['a1']);
    expect(parseIdQuery(' id:"a1" OR id:(b2 OR "c3")  OR id:d4 ', undefined)).toEqual([
      'a1',
      'b2',
      'c3',
      'd4',
    ]);
    expect(parseIdQuery('(a1 OR b2)', ['id'])).toEqual(['a1', 'b2']);
  });

  it('refuses anything else rather than guessing', () => {
    for (const query of ['id:a1 OR', 'id:a1 AND id:b2', 'name:a1', 'id:(a1 b2)', 'id:a1 OR name:b', '']) {
      expect(() => parseIdQuery(query, undefined)).toThrow(/does not support/);
    }
    expect(() => parseIdQuery('a1', ['name'])).toThrow(/fields/);
  });
});
