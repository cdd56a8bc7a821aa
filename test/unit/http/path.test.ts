import { unsafePathSegment } from '../../../functions/shared/http';

describe('unsafePathSegment', () => {
  test.each([
    '/beta/reassignment-configurations/2c9180835d2e5168015d32f890ca1581',
    '/beta/personal-access-tokens',
    '/v3/search/identities/abc.def', // a dot inside a segment is harmless
    '/v3/search/identities/%252e%252e', // an encoded '%2e%2e' id: the server sees the literal text
  ])('accepts %p', (path) => {
    expect(unsafePathSegment(path)).toBeUndefined();
  });

  test.each([
    ['/beta/reassignment-configurations/..', /dot segment \('\.\.'\)/],
    ['/beta/reassignment-configurations/../ACCESS_REQUESTS', /dot segment/],
    ['/beta/x/.', /dot segment \('\.'\)/],
    ['/beta/x/%2e%2E/y', /dot segment \('%2e%2E'\)/],
    ['/beta/x/%2E', /dot segment/],
    ['/beta/reassignment-configurations/', /empty path segment/],
    ['/beta//ACCESS_REQUESTS', /empty path segment/],
  ])('refuses %p', (path, reason) => {
    expect(unsafePathSegment(path)).toMatch(reason);
  });
});
