/**
 * A subscription's JSONPath filter, as ISC applies it: the event is sent when the expression selects
 * something. ISC evaluates Jayway-style JSONPath, where `$` inside a filter is the document root;
 * jsonpath-plus calls that `@root`, so it is renamed before evaluation.
 */
import { JSONPath } from 'jsonpath-plus';

function toJsonPathPlus(filter: string): string {
  // `$` that opens a path inside a filter expression (not the leading one, not inside a string).
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i]!;
    if (quote) {
      if (c === quote && filter[i - 1] !== '\\') quote = undefined;
      out += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      out += c;
    } else if (c === '$' && i > 0 && /[.[]/.test(filter[i + 1] ?? '')) {
      out += '@root';
    } else {
      out += c;
    }
  }
  return out;
}

/** Whether `filter` selects anything in `payload`. Throws on a filter that does not parse. */
export function filterMatches(filter: string, payload: unknown): boolean {
  const result = JSONPath({ path: toJsonPathPlus(filter), json: payload as object, wrap: true }) as unknown[];
  return result.length > 0;
}

/** The problem with a filter, or undefined when it evaluates (checked on a sample payload). */
export function filterProblem(filter: string): string | undefined {
  if (!filter.trim().startsWith('$')) return 'a JSONPath filter starts with $';
  try {
    filterMatches(filter, { identity: { id: 'x' }, changes: [{ attribute: 'a' }] });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
