import { z } from 'zod';
import {
  ServiceCallError,
  nameErrorClasses,
  parseJsonBody,
  readErrorBody,
  redactBearerTokens,
  redactSecrets,
  schemaIssues,
  snippet,
  summarizeSchemaIssues,
} from '../../../functions/shared/http';

const SECRET = 'S3cr3t-value';
const redact = (text: string) => redactSecrets(text, [SECRET]);

describe('redaction', () => {
  it('removes every occurrence of each secret and ignores empty ones', () => {
    expect(redactSecrets(`a ${SECRET} b ${SECRET} c tok`, [SECRET, '', 'tok'])).toBe(
      'a [redacted] b [redacted] c [redacted]',
    );
    expect(redactSecrets('nothing here', [''])).toBe('nothing here');
  });

  it('removes bearer values and JWT-looking strings', () => {
    expect(redactBearerTokens('Authorization: Bearer abc.def-1 and bearer xyz')).toBe(
      'Authorization: Bearer [redacted] and Bearer [redacted]',
    );
    expect(redactBearerTokens('token eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig-1 used')).toBe(
      'token [redacted] used',
    );
  });

  it('snippet folds white space, redacts, then cuts at 300 characters', () => {
    expect(snippet(`  <html>\n  key   ${SECRET}  </html> `, redact)).toBe('<html> key [redacted] </html>');
    const long = snippet('x'.repeat(400), redact);
    expect(long).toBe(`${'x'.repeat(300)}…`);
  });

  it('snippet leaves no part of a secret that straddles the cut', () => {
    const straddling = snippet(`${'x'.repeat(295)}${SECRET}${'y'.repeat(50)}`, redact);
    expect(straddling).not.toContain(SECRET.slice(0, 5));
    expect(straddling.startsWith(`${'x'.repeat(295)}[redacted]`.slice(0, 300))).toBe(true);
  });
});

describe('schema issues', () => {
  it('keeps paths and messages, never the values, and summarizes the first five', () => {
    const schema = z.object({ a: z.string(), b: z.object({ c: z.number() }) });
    const parsed = schema.safeParse({ a: 42, b: { c: 'not a number' } });
    if (parsed.success) throw new Error('expected a failure');
    const issues = schemaIssues(parsed.error);
    expect(issues.map((i) => i.path)).toEqual(['a', 'b.c']);
    expect(JSON.stringify(issues)).not.toContain('not a number');

    const many = Array.from({ length: 7 }, (_, i) => ({ path: `p${i}`, message: 'bad' }));
    expect(summarizeSchemaIssues(many)).toBe('p0: bad; p1: bad; p2: bad; p3: bad; p4: bad; … 2 more');
    expect(summarizeSchemaIssues(many.slice(0, 2))).toBe('p0: bad; p1: bad');
  });

  it('names the root when the whole value is wrong', () => {
    const parsed = z.string().safeParse(1);
    if (parsed.success) throw new Error('expected a failure');
    expect(schemaIssues(parsed.error)[0]?.path).toBe('(root)');
  });
});

describe('parseJsonBody', () => {
  const Schema = z.object({ id: z.string() });

  it('returns the parsed data', () => {
    expect(parseJsonBody('{"id":"x"}', Schema, redact)).toEqual({ ok: true, data: { id: 'x' } });
  });

  it('checks undefined against the schema when there is no body', () => {
    expect(parseJsonBody(undefined, z.undefined(), redact)).toEqual({ ok: true, data: undefined });
    expect(parseJsonBody(undefined, Schema, redact)).toMatchObject({
      ok: false,
      issues: [{ path: '(root)' }],
    });
  });

  it('explains a body that is not JSON with a redacted snippet', () => {
    expect(parseJsonBody(`<html>${SECRET}</html>`, Schema, redact)).toEqual({
      ok: false,
      detail: 'response body is not JSON: <html>[redacted]</html>',
    });
  });

  it('explains a schema mismatch with the issues', () => {
    const parsed = parseJsonBody('{"id":42}', Schema, redact);
    expect(parsed).toMatchObject({ ok: false, issues: [{ path: 'id' }] });
    expect(parsed.ok || parsed.detail).toMatch(/^response did not match the expected schema: id: /);
  });
});

describe('readErrorBody', () => {
  const Problem = z.looseObject({ title: z.string().optional() });

  it('gives the fields of a body in the expected shape', () => {
    expect(readErrorBody('{"title":"Bad","extra":1}', Problem, redact)).toEqual({
      fields: { title: 'Bad', extra: 1 },
    });
  });

  it('gives a redacted snippet for anything else, and nothing for an empty body', () => {
    expect(readErrorBody(`bad gateway ${SECRET}`, Problem, redact)).toEqual({
      snippet: 'bad gateway [redacted]',
    });
    expect(readErrorBody('[1, 2]', Problem, redact)).toEqual({ snippet: '[1, 2]' });
    expect(readErrorBody('  \n', Problem, redact)).toEqual({});
  });
});

describe('ServiceCallError', () => {
  class ThingError extends ServiceCallError {}
  nameErrorClasses({ ThingError });

  it('keeps operation, status and cause, and defaults retryable per class unless overridden', () => {
    const cause = new Error('socket');
    const error = new ThingError('it failed', { operation: 'getThing', status: 503, cause }, true);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      message: 'it failed',
      operation: 'getThing',
      status: 503,
      retryable: true,
      cause,
    });
    expect(new ThingError('x', { operation: 'o', retryable: false }, true).retryable).toBe(false);
    expect('cause' in new ThingError('x', { operation: 'o' }, false)).toBe(false);
  });

  it('puts the given names on the prototypes, so the stack header shows them', () => {
    const error = new ThingError('it failed', { operation: 'o' }, false);
    expect(error.name).toBe('ThingError');
    expect(String(error.stack)).toMatch(/^ThingError: it failed/);
    expect(Object.keys(error)).not.toContain('name');
  });
});
