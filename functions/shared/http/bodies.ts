/**
 * Reading response bodies the same way in every client: a 2xx body is parsed with the caller's zod
 * schema, an error body with a tolerant schema of the service's error format; whatever of a body
 * ends up in an error message is a redacted snippet.
 */
import type { ZodType } from 'zod';
import { schemaIssues, snippet, summarizeSchemaIssues, type SchemaIssue } from './safe-text';

export type ParsedBody<T> = { ok: true; data: T } | { ok: false; detail: string; issues?: SchemaIssue[] };

/**
 * Parses `text` as JSON, then with `schema`. `text` undefined means the response has no body (a 204):
 * `undefined` is then checked against the schema. On failure, `detail` says why (with a redacted
 * snippet of a body that is not JSON) and `issues` lists the schema's complaints, never the values.
 */
export function parseJsonBody<T>(
  text: string | undefined,
  schema: ZodType<T>,
  redact: (text: string) => string,
): ParsedBody<T> {
  let json: unknown = undefined;
  if (text !== undefined) {
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, detail: `response body is not JSON: ${snippet(text, redact)}` };
    }
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issues = schemaIssues(parsed.error);
  return {
    ok: false,
    detail: `response did not match the expected schema: ${summarizeSchemaIssues(issues)}`,
    issues,
  };
}

/**
 * An error response's body read with a tolerant `schema`: its `fields` when it matches; otherwise
 * (not JSON, or another shape such as a gateway's HTML page) a redacted `snippet`; nothing when empty.
 */
export function readErrorBody<T>(
  text: string,
  schema: ZodType<T>,
  redact: (text: string) => string,
): { fields?: T; snippet?: string } {
  if (text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { snippet: snippet(text, redact) };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { fields: parsed.data } : { snippet: snippet(text, redact) };
}
