/**
 * The ISC standard `filters` query parameter (official/standard-collection-parameters.md):
 * a parser to an expression tree, validation against what one endpoint allows, and evaluation.
 *
 * Each endpoint declares its fields and operators in a `FilterSpec`; anything else (unknown
 * field, operator not allowed on the field, bad value) is a `FilterError`, which the sandbox
 * error handler turns into a 400 ErrorResponseDto, as the real service does.
 *
 * Operators are lower case only ("EQ" is a syntax error). Precedence: not > and > or;
 * parentheses override. String comparisons are case-insensitive unless the field says otherwise.
 */

export type FilterComparison = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'co' | 'sw';
export type FilterOperator = FilterComparison | 'in' | 'ca' | 'pr' | 'isnull';

/** A literal as written: `"quoted"` or a bare word such as a number, boolean or ISO date. */
export interface FilterLiteral {
  readonly raw: string;
  readonly quoted: boolean;
}

export type FilterExpression =
  | { readonly kind: 'and' | 'or'; readonly left: FilterExpression; readonly right: FilterExpression }
  | { readonly kind: 'not'; readonly operand: FilterExpression }
  | {
      readonly kind: 'compare';
      readonly field: string;
      readonly op: FilterComparison;
      readonly value: FilterLiteral;
    }
  | {
      readonly kind: 'list';
      readonly field: string;
      readonly op: 'in' | 'ca';
      readonly values: readonly FilterLiteral[];
    }
  | { readonly kind: 'presence'; readonly field: string; readonly op: 'pr' | 'isnull' };

export type FilterFieldType = 'string' | 'date' | 'number' | 'boolean' | 'string[]';

export interface FilterField<T> {
  readonly type: FilterFieldType;
  readonly operators: readonly FilterOperator[];
  /** Reads the field from an item; default: the dotted field path on the item. */
  readonly get?: (item: T) => unknown;
  /** String comparisons are case-insensitive unless this is set. */
  readonly caseSensitive?: boolean;
}

/** What one endpoint allows, keyed by field name as written in the filter. */
export type FilterSpec<T> = Readonly<Record<string, FilterField<T>>>;

export class FilterError extends Error {
  constructor(
    message: string,
    readonly reason: 'syntax' | 'unsupported' | 'value',
  ) {
    super(message);
    this.name = 'FilterError';
  }
}

const COMPARISONS: ReadonlySet<string> = new Set<FilterComparison>([
  'eq',
  'ne',
  'gt',
  'ge',
  'lt',
  'le',
  'co',
  'sw',
]);
const KEYWORDS: ReadonlySet<string> = new Set([
  ...COMPARISONS,
  'in',
  'ca',
  'pr',
  'isnull',
  'and',
  'or',
  'not',
]);
const FIELD = /^[A-Za-z_][\w.]*$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

type Token =
  | { readonly type: 'word'; readonly text: string; readonly at: number }
  | { readonly type: 'string'; readonly text: string; readonly at: number }
  | { readonly type: '(' | ')' | ','; readonly at: number }
  | { readonly type: 'end'; readonly at: number };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: c, at: i });
      i++;
    } else if (c === '"') {
      const start = i++;
      let text = '';
      for (;;) {
        if (i >= input.length)
          throw new FilterError(`unterminated string starting at position ${start}`, 'syntax');
        const d = input[i]!;
        if (d === '\\') {
          const next = input[i + 1];
          if (next !== '"' && next !== '\\')
            throw new FilterError(`invalid escape at position ${i}`, 'syntax');
          text += next;
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ type: 'string', text, at: start });
    } else {
      const start = i;
      while (i < input.length && !/[\s(),"]/.test(input[i]!)) i++;
      tokens.push({ type: 'word', text: input.slice(start, i), at: start });
    }
  }
  tokens.push({ type: 'end', at: input.length });
  return tokens;
}

class Parser {
  private index = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parse(): FilterExpression {
    const expr = this.or();
    const rest = this.peek();
    if (rest.type !== 'end') throw this.unexpected(rest);
    return expr;
  }

  private or(): FilterExpression {
    let left = this.and();
    while (this.isWord('or')) {
      this.index++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterExpression {
    let left = this.not();
    while (this.isWord('and')) {
      this.index++;
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }

  private not(): FilterExpression {
    if (this.isWord('not')) {
      this.index++;
      return { kind: 'not', operand: this.not() };
    }
    return this.primary();
  }

  private primary(): FilterExpression {
    const token = this.next();
    if (token.type === '(') {
      const expr = this.or();
      this.expect(')');
      return expr;
    }
    if (token.type !== 'word') throw this.unexpected(token);
    if (token.text === 'pr') return { kind: 'presence', op: 'pr', field: this.field() };
    const field = this.checkField(token);
    const opToken = this.next();
    if (opToken.type !== 'word') throw this.unexpected(opToken, 'an operator');
    const op = opToken.text;
    if (op === 'isnull') return { kind: 'presence', op, field };
    if (op === 'in' || op === 'ca') return { kind: 'list', op, field, values: this.list() };
    if (COMPARISONS.has(op))
      return { kind: 'compare', op: op as FilterComparison, field, value: this.literal() };
    throw new FilterError(`unknown operator '${op}' at position ${opToken.at}`, 'syntax');
  }

  private list(): FilterLiteral[] {
    this.expect('(');
    const values = [this.literal()];
    while (this.peek().type === ',') {
      this.index++;
      values.push(this.literal());
    }
    this.expect(')');
    return values;
  }

  private literal(): FilterLiteral {
    const token = this.next();
    if (token.type === 'string') return { raw: token.text, quoted: true };
    if (token.type === 'word' && !KEYWORDS.has(token.text)) return { raw: token.text, quoted: false };
    throw this.unexpected(token, 'a value');
  }

  private field(): string {
    const token = this.next();
    if (token.type !== 'word') throw this.unexpected(token, 'a field name');
    return this.checkField(token);
  }

  private checkField(token: Token & { type: 'word' }): string {
    if (KEYWORDS.has(token.text) || !FIELD.test(token.text)) throw this.unexpected(token, 'a field name');
    return token.text;
  }

  private isWord(text: string): boolean {
    const token = this.peek();
    return token.type === 'word' && token.text === text;
  }

  private expect(type: '(' | ')'): void {
    const token = this.next();
    if (token.type !== type) throw this.unexpected(token, `'${type}'`);
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'end') this.index++;
    return token;
  }

  private unexpected(token: Token, expected?: string): FilterError {
    const found =
      token.type === 'end'
        ? 'end of input'
        : token.type === 'word' || token.type === 'string'
          ? `'${token.text}'`
          : `'${token.type}'`;
    const wanted = expected ? `, expected ${expected}` : '';
    return new FilterError(`unexpected ${found} at position ${token.at}${wanted}`, 'syntax');
  }
}

/** Parses a filter expression. Syntax only: fields and operators are checked by `validateFilter`. */
export function parseFilter(text: string): FilterExpression {
  if (text.trim() === '') throw new FilterError('empty filter expression', 'syntax');
  return new Parser(tokenize(text)).parse();
}

function leaves(expr: FilterExpression): Exclude<FilterExpression, { kind: 'and' | 'or' | 'not' }>[] {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return [...leaves(expr.left), ...leaves(expr.right)];
    case 'not':
      return leaves(expr.operand);
    default:
      return [expr];
  }
}

function checkValue(field: string, type: FilterFieldType, value: FilterLiteral): void {
  const bad = (what: string) =>
    new FilterError(`invalid ${what} value '${value.raw}' for field '${field}'`, 'value');
  switch (type) {
    case 'date':
      if (!ISO_DATE.test(value.raw) || Number.isNaN(Date.parse(value.raw))) throw bad('date-time');
      return;
    case 'number':
      if (value.quoted || value.raw.trim() === '' || !Number.isFinite(Number(value.raw)))
        throw bad('numeric');
      return;
    case 'boolean':
      if (value.quoted || (value.raw !== 'true' && value.raw !== 'false')) throw bad('boolean');
      return;
    default:
      return;
  }
}

/** Checks every field, operator and value against what the endpoint allows. */
export function validateFilter<T>(expr: FilterExpression, spec: FilterSpec<T>): void {
  for (const leaf of leaves(expr)) {
    const field = Object.hasOwn(spec, leaf.field) ? spec[leaf.field] : undefined;
    if (!field) throw new FilterError(`filtering is not supported for field '${leaf.field}'`, 'unsupported');
    if (!field.operators.includes(leaf.op)) {
      throw new FilterError(
        `operator '${leaf.op}' is not supported for field '${leaf.field}'`,
        'unsupported',
      );
    }
    if (leaf.kind === 'compare') checkValue(leaf.field, field.type, leaf.value);
    if (leaf.kind === 'list') for (const value of leaf.values) checkValue(leaf.field, field.type, value);
  }
}

function readPath(item: unknown, path: string): unknown {
  let current: unknown = item;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Orders two values of the field's type; undefined when they cannot be compared. */
function compareValues(type: FilterFieldType, actual: unknown, literal: string, caseSensitive: boolean) {
  switch (type) {
    case 'date': {
      const a =
        actual instanceof Date ? actual.getTime() : typeof actual === 'string' ? Date.parse(actual) : NaN;
      const b = Date.parse(literal);
      return Number.isNaN(a) ? undefined : Math.sign(a - b);
    }
    case 'number':
      return typeof actual === 'number' ? Math.sign(actual - Number(literal)) : undefined;
    case 'boolean':
      return typeof actual === 'boolean' ? (String(actual) === literal ? 0 : actual ? 1 : -1) : undefined;
    default: {
      if (typeof actual !== 'string') return undefined;
      const [a, b] = caseSensitive ? [actual, literal] : [actual.toLowerCase(), literal.toLowerCase()];
      return a < b ? -1 : a > b ? 1 : 0;
    }
  }
}

function fold(value: string, caseSensitive: boolean): string {
  return caseSensitive ? value : value.toLowerCase();
}

function evaluate<T>(expr: FilterExpression, item: T, spec: FilterSpec<T>): boolean {
  switch (expr.kind) {
    case 'and':
      return evaluate(expr.left, item, spec) && evaluate(expr.right, item, spec);
    case 'or':
      return evaluate(expr.left, item, spec) || evaluate(expr.right, item, spec);
    case 'not':
      return !evaluate(expr.operand, item, spec);
    default:
      break;
  }
  const field = spec[expr.field]!;
  const actual = field.get ? field.get(item) : readPath(item, expr.field);
  const caseSensitive = field.caseSensitive ?? false;
  if (expr.kind === 'presence') return expr.op === 'isnull' ? actual == null : actual != null;
  if (expr.kind === 'list') {
    if (expr.op === 'in')
      return expr.values.some((v) => compareValues(field.type, actual, v.raw, caseSensitive) === 0);
    if (!Array.isArray(actual)) return false;
    const held = actual.filter((a): a is string => typeof a === 'string').map((a) => fold(a, caseSensitive));
    return expr.values.every((v) => held.includes(fold(v.raw, caseSensitive)));
  }
  const literal = expr.value.raw;
  if (expr.op === 'co' || expr.op === 'sw') {
    if (typeof actual !== 'string') return false;
    const [a, b] = [fold(actual, caseSensitive), fold(literal, caseSensitive)];
    return expr.op === 'co' ? a.includes(b) : a.startsWith(b);
  }
  const order = compareValues(field.type, actual, literal, caseSensitive);
  if (expr.op === 'ne') return order !== 0;
  if (order === undefined) return false;
  switch (expr.op) {
    case 'eq':
      return order === 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    default:
      return order <= 0;
  }
}

/**
 * Parses and validates `filters` for one endpoint and returns the predicate to apply.
 * An absent or blank parameter matches everything. Throws `FilterError` (→ 400).
 */
export function compileFilter<T>(filters: string | undefined, spec: FilterSpec<T>): (item: T) => boolean {
  if (filters === undefined || filters.trim() === '') return () => true;
  const expr = parseFilter(filters);
  validateFilter(expr, spec);
  return (item) => evaluate(expr, item, spec);
}
