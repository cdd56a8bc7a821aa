/**
 * SailPoint ids as a contract sees them. ISC ids (identities, roles, access profiles, entitlements,
 * sources, tokens) are 32 hexadecimal characters, e.g. 2c9180835d2e5168015d32f890ca1581; the sandbox
 * tenant uses the same form. Anything else in a message is refused before it reaches a DynamoDB key
 * or a URL path (where `..` would change which API path is called). Upper case is accepted and
 * lowered, so one identity never has two spellings (and two deduplication keys).
 */
import * as z from 'zod';

export const SAILPOINT_ID_PATTERN = /^[0-9a-f]{32}$/i;

/** A SailPoint id field: 32 hex characters, lower-cased. */
export const sailPointId = () =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? 'is required' : 'must be a SailPoint id (a string)'),
    })
    .trim()
    .regex(SAILPOINT_ID_PATTERN, {
      error: (issue) =>
        `must be a SailPoint id: 32 hexadecimal characters, e.g. 2c9180835d2e5168015d32f890ca1581 ` +
        `(got ${JSON.stringify(String(issue.input).slice(0, 40))})`,
    })
    .transform((id) => id.toLowerCase());
