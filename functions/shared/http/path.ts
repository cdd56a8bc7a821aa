/**
 * Path parameters end up in URL paths, and `encodeURIComponent('..')` is still `..`: once the URL is
 * normalised, a `.` or `..` segment changes which API path is called
 * (`/beta/reassignment-configurations/../access-requests` is `/beta/access-requests`), and an empty
 * segment turns a call on one item into a call on the collection. The clients refuse such a path
 * before anything is sent, whatever produced the parameter (a message, or a value read from an API).
 */

/** What is wrong with a request path's segments, or undefined when nothing is. */
export function unsafePathSegment(path: string): string | undefined {
  const segments = path.split('/').slice(1); // the path starts with '/'
  for (const segment of segments) {
    if (segment === '') return 'an empty path segment (a missing path parameter)';
    // %2e is '.', which servers and proxies may decode before normalising.
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') {
      return `a dot segment ('${segment}'), which would change the API path called`;
    }
  }
  return undefined;
}
