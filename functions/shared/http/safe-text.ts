/**
 * Turns what a server sent back into text that is safe to put in an error message or a log line:
 * known secrets removed, long bodies cut short, schema failures reduced to paths and messages
 * (never the offending values, which could hold a credential).
 */
import type { ZodError } from 'zod';

const REDACTED = '[redacted]';
const MAX_SNIPPET_CHARS = 300;

/** Replaces every occurrence of each (non-empty) secret. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** Replaces bearer values and JWT-looking strings, whoever they belong to. */
export function redactBearerTokens(text: string): string {
  return text
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/gi, `Bearer ${REDACTED}`)
    .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, REDACTED);
}

/**
 * A body for an error message: white space folded, `redact`ed, then cut to 300 characters.
 * Redacting first matters: a cut through a secret would leave its first characters unredacted.
 */
export function snippet(text: string, redact: (text: string) => string): string {
  const flat = redact(text.replace(/\s+/g, ' ').trim());
  return flat.length > MAX_SNIPPET_CHARS ? `${flat.slice(0, MAX_SNIPPET_CHARS)}…` : flat;
}

/** A zod issue reduced to where and what, without the value. */
export interface SchemaIssue {
  path: string;
  message: string;
}

export function schemaIssues(error: ZodError): SchemaIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/** `a.b: expected string; c: required; … 3 more` — the first five issues. */
export function summarizeSchemaIssues(issues: SchemaIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`);
  return shown.join('; ') + (issues.length > 5 ? `; … ${issues.length - 5} more` : '');
}
