/**
 * EventBridge's event pattern matching, for the local router and for testing the stack's rule
 * patterns against the sandbox's envelopes. Implements the documented semantics of the operators
 * listed below; any other operator throws, so a pattern the local router cannot judge is never
 * silently taken as "no match".
 *
 * - every field of the pattern must match (AND); a field's array lists alternatives (OR);
 * - a nested object matches inside the event's object (or any element of an array of objects);
 * - against an array value, a leaf matches when any element does;
 * - operators: exact values, {prefix}, {suffix}, {equals-ignore-case}, {wildcard} (`*`), {exists},
 *   {anything-but} (a value, a list, or {prefix}).
 */
export type EventPatternValue = readonly unknown[] | { readonly [key: string]: EventPatternValue };

export class UnsupportedPatternError extends Error {
  override readonly name = 'UnsupportedPatternError';
}

export function matchesPattern(pattern: Readonly<Record<string, unknown>>, event: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => matchField(expected, fieldOf(event, key)));
}

const ABSENT = Symbol('absent');

function fieldOf(value: unknown, key: string): unknown {
  if (Array.isArray(value)) {
    // A path through an array of objects: the values of every element (flattened).
    const found = value.map((v) => fieldOf(v, key)).filter((v) => v !== ABSENT);
    return found.length > 0 ? found.flat() : ABSENT;
  }
  if (value !== null && typeof value === 'object' && key in value)
    return (value as Record<string, unknown>)[key];
  return ABSENT;
}

function matchField(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    if (expected.length === 0)
      throw new UnsupportedPatternError('an empty list matches nothing: EventBridge refuses it');
    return expected.some((alternative) => matchLeaf(alternative, actual));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === ABSENT || actual === null || typeof actual !== 'object') return false;
    return matchesPattern(expected as Record<string, unknown>, actual);
  }
  throw new UnsupportedPatternError(
    `a pattern field must be a list or an object, got ${JSON.stringify(expected)}`,
  );
}

function matchLeaf(alternative: unknown, actual: unknown): boolean {
  if (alternative !== null && typeof alternative === 'object') {
    const [operator, ...more] = Object.keys(alternative);
    if (!operator || more.length > 0) {
      throw new UnsupportedPatternError(`one operator per alternative: ${JSON.stringify(alternative)}`);
    }
    const argument = (alternative as Record<string, unknown>)[operator];
    if (operator === 'exists') return argument === true ? actual !== ABSENT : actual === ABSENT;
    if (actual === ABSENT) return false; // every other operator needs the field
    const values = Array.isArray(actual) ? actual : [actual];
    return values.some((value) => applyOperator(operator, argument, value));
  }
  if (actual === ABSENT) return false;
  const values = Array.isArray(actual) ? actual : [actual];
  return values.some((value) => value === alternative);
}

function applyOperator(operator: string, argument: unknown, value: unknown): boolean {
  const text = typeof value === 'string' ? value : undefined;
  switch (operator) {
    case 'prefix':
      return text !== undefined && typeof argument === 'string' && text.startsWith(argument);
    case 'suffix':
      return text !== undefined && typeof argument === 'string' && text.endsWith(argument);
    case 'equals-ignore-case':
      return (
        text !== undefined && typeof argument === 'string' && text.toLowerCase() === argument.toLowerCase()
      );
    case 'wildcard': {
      if (text === undefined || typeof argument !== 'string') return false;
      const regex = new RegExp(`^${argument.split('*').map(escapeRegex).join('.*')}$`);
      return regex.test(text);
    }
    case 'anything-but': {
      if (Array.isArray(argument)) return !argument.includes(value);
      if (argument !== null && typeof argument === 'object') {
        const prefix = (argument as { prefix?: unknown }).prefix;
        if (typeof prefix !== 'string') {
          throw new UnsupportedPatternError(`anything-but supports a value, a list or {prefix}`);
        }
        return text !== undefined && !text.startsWith(prefix);
      }
      return value !== argument;
    }
    default:
      throw new UnsupportedPatternError(`operator ${operator} is not supported by the local router`);
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
