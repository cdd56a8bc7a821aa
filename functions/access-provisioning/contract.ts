/**
 * The queue message contract: SailPoint's own `AccessRequest` body (beta createAccessRequest) plus an
 * optional caller `requestId`, validated with the rules of SailPoint's current spec
 * (/work/shared/reference/official/ops-beta.yaml), so a message that SailPoint would refuse is
 * dead-lettered with a clear reason before any call is made:
 * - at least one requested item, of type ACCESS_PROFILE, ROLE or ENTITLEMENT (the spec limits only
 *   entitlements: 25 per request and 10 recipients — limits of a request, which coalescing keeps);
 * - REVOKE_ACCESS names exactly one identity and every item carries a comment;
 * - `removeDate` is a UTC date-time in the future (on any item type, entitlements included).
 *
 * A message need not be a single API-legal request in its size: the workflow splits it into units
 * (one identity, one item) and coalesces them again, so e.g. 11 recipients of an entitlement are fine.
 * Its size is bounded by MAX_UNITS_PER_MESSAGE (plan.ts). Fields the workflow does not support
 * (startDate, requestedForWithRequestedItems, assignmentId …) are refused rather than silently ignored.
 *
 * Bounded, so that whoever may send cannot make one message cost without limit (docs/handlers.md,
 * "Input caps"; docs/access-provisioning.md): the body (MAX_MESSAGE_BYTES, before it is parsed), the
 * lists (MAX_LIST_LENGTH), the requestId, the comment and clientMetadata (entries, key and value
 * lengths). The spec sets no string lengths for these fields, so the caps are ours: generous for what
 * a producer writes, small enough that every POST body and the status listings SailPoint returns them
 * in (clientMetadata comes back on /access-request-status, which reconciling reads) stay small.
 * Control characters are refused in every string but the comment (where tab and line breaks are
 * text). Each refusal names the field.
 */
import * as z from 'zod';
import { sailPointId } from '../shared/sailpoint/ids';

export const ACCESS_ITEM_TYPES = ['ACCESS_PROFILE', 'ROLE', 'ENTITLEMENT'] as const;
export type AccessItemType = (typeof ACCESS_ITEM_TYPES)[number];

export const REQUEST_TYPES = ['GRANT_ACCESS', 'REVOKE_ACCESS'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/** Entitlements one access request may carry (ops-beta.yaml createAccessRequest). */
export const MAX_ENTITLEMENTS_PER_REQUEST = 25;

/** clientMetadata keys the workflow writes itself (see coalesce.ts); callers may not use them. */
export const RESERVED_METADATA_PREFIX = 'igaAutopilot';

/** The largest message body accepted, in bytes (SQS's default maximum message size); checked before parsing. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/**
 * The most identities (requestedFor) and items (requestedItems) a message may list: the ceiling of
 * MAX_UNITS_PER_MESSAGE (settings.ts), so a longer list can never be valid; the setting then bounds
 * their product.
 */
export const MAX_LIST_LENGTH = 1000;
/** The longest requestId (as an absence event's eventId). */
export const MAX_REQUEST_ID_LENGTH = 200;
/** The longest comment per item. */
export const MAX_COMMENT_LENGTH = 4000;
/** The most clientMetadata entries per map (request level, each item). */
export const MAX_METADATA_ENTRIES = 20;
export const MAX_METADATA_KEY_LENGTH = 128;
export const MAX_METADATA_VALUE_LENGTH = 1000;

/** Ids end up in DynamoDB keys (joined with '#') and URL paths: SailPoint ids only (shared/sailpoint/ids.ts). */
const Id = sailPointId();

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A key as a reason shows it: quoted, and cut when long. */
const shownKey = (key: string) => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);

const Metadata = z
  .record(z.string(), z.string({ error: 'values must be strings' }))
  .superRefine((metadata, ctx) => {
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
    const entries = Object.entries(metadata);
    if (entries.length > MAX_METADATA_ENTRIES) {
      problem(`must have at most ${MAX_METADATA_ENTRIES} entries (got ${entries.length})`);
      return;
    }
    for (const [key, value] of entries) {
      if (key.length === 0 || key.length > MAX_METADATA_KEY_LENGTH) {
        problem(`key ${shownKey(key)} must be 1–${MAX_METADATA_KEY_LENGTH} characters (got ${key.length})`);
      } else if (CONTROL_CHARACTERS.test(key)) {
        problem(`key ${shownKey(key)} must not contain control characters`);
      }
      if (value.length > MAX_METADATA_VALUE_LENGTH) {
        problem(
          `the value of ${shownKey(key)} must be at most ${MAX_METADATA_VALUE_LENGTH} characters (got ${value.length})`,
        );
      } else if (CONTROL_CHARACTERS.test(value)) {
        problem(`the value of ${shownKey(key)} must not contain control characters`);
      }
    }
    if (entries.some(([key]) => key.startsWith(RESERVED_METADATA_PREFIX))) {
      problem(`keys starting with "${RESERVED_METADATA_PREFIX}" are reserved for this workflow`);
    }
  });

export const RequestedItemSchema = z.strictObject({
  type: z.enum(ACCESS_ITEM_TYPES, { error: `must be one of ${ACCESS_ITEM_TYPES.join(', ')}` }),
  id: Id,
  comment: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(MAX_COMMENT_LENGTH, { error: `must be at most ${MAX_COMMENT_LENGTH} characters` })
    .refine((c) => !CONTROL_CHARACTERS_BUT_LINE_BREAKS.test(c), {
      error: 'must not contain control characters (tab and line breaks are allowed)',
    })
    .optional(),
  /** UTC, as the page requires ("in the UTC timezone"): offsets other than Z are refused. */
  removeDate: z.iso
    .datetime({ error: 'must be an ISO-8601 UTC date-time such as 2030-01-31T00:00:00Z' })
    .optional(),
  clientMetadata: Metadata.optional(),
});

export const AccessRequestMessageSchema = z.strictObject({
  /** The caller's own reference; outcomes can be looked up by it. */
  requestId: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(MAX_REQUEST_ID_LENGTH, { error: `must be at most ${MAX_REQUEST_ID_LENGTH} characters` })
    .refine((id) => !CONTROL_CHARACTERS.test(id), { error: 'must not contain control characters' })
    .optional(),
  requestedFor: z
    .array(Id, { error: 'must be an array of identity ids' })
    .min(1, { error: 'must name at least one identity' })
    .max(MAX_LIST_LENGTH, { error: `must name at most ${MAX_LIST_LENGTH} identities` }),
  /** Defaults to GRANT_ACCESS, as in the API. */
  requestType: z
    .enum(REQUEST_TYPES, { error: 'must be GRANT_ACCESS or REVOKE_ACCESS' })
    .nullish()
    .transform((v): RequestType => v ?? 'GRANT_ACCESS'),
  requestedItems: z
    .array(RequestedItemSchema, { error: 'must be an array of items' })
    .min(1, { error: 'must contain at least 1 item' })
    .max(MAX_LIST_LENGTH, { error: `must contain at most ${MAX_LIST_LENGTH} items` }),
  clientMetadata: Metadata.optional(),
});

export type AccessRequestMessage = z.output<typeof AccessRequestMessageSchema>;
export type RequestedItem = z.output<typeof RequestedItemSchema>;

export type ParsedMessage =
  { ok: true; message: AccessRequestMessage } | { ok: false; reason: string; requestId?: string };

/** Parses and validates one queue message body. `now` decides whether a removeDate is in the future. */
export function parseAccessRequestMessage(body: string, now: number): ParsedMessage {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    return {
      ok: false,
      reason: `invalid message: the body is ${bytes} bytes; at most ${MAX_MESSAGE_BYTES} are accepted`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: `invalid message: the body is not JSON (${describeBody(body)})` };
  }
  const requestId = peekRequestId(json);
  const parsed = AccessRequestMessageSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `invalid message: ${formatIssues(parsed.error.issues)}`, requestId };
  }
  const problems = ruleViolations(parsed.data, now);
  if (problems.length > 0) return { ok: false, reason: `invalid message: ${problems.join('; ')}`, requestId };
  return { ok: true, message: parsed.data };
}

/** The API page's rules that a schema alone does not express. */
export function ruleViolations(message: AccessRequestMessage, now: number): string[] {
  const problems: string[] = [];
  const revoke = message.requestType === 'REVOKE_ACCESS';
  if (revoke && message.requestedFor.length !== 1) {
    problems.push(
      `requestedFor: REVOKE_ACCESS must name exactly one identity (got ${message.requestedFor.length})`,
    );
  }
  const seenIdentities = new Set<string>();
  message.requestedFor.forEach((id, index) => {
    if (seenIdentities.has(id)) problems.push(`requestedFor[${index}]: identity ${id} is listed twice`);
    seenIdentities.add(id);
  });
  const seenItems = new Set<string>();
  message.requestedItems.forEach((item, index) => {
    const at = `requestedItems[${index}]`;
    const key = `${item.type}:${item.id}`;
    if (seenItems.has(key)) problems.push(`${at}: ${item.type} ${item.id} is listed twice`);
    seenItems.add(key);
    if (revoke && item.comment === undefined) problems.push(`${at}.comment: required for REVOKE_ACCESS`);
    if (item.removeDate !== undefined && Date.parse(item.removeDate) <= now) {
      problems.push(`${at}.removeDate: must be in the future (got ${item.removeDate})`);
    }
  });
  return problems;
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 8).map((issue) => {
    const path = formatPath(issue.path);
    const message =
      issue.code === 'unrecognized_keys'
        ? `unsupported field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : issue.message;
    return path ? `${path}: ${message}` : message;
  });
  return shown.join('; ') + (issues.length > 8 ? `; … ${issues.length - 8} more` : '');
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

function peekRequestId(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const value = (json as Record<string, unknown>).requestId;
  // Only a requestId the contract accepts: the outcome of an invalid message is found by it.
  const parsed = AccessRequestMessageSchema.shape.requestId.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function describeBody(body: string): string {
  if (body.trim() === '') return 'empty body';
  const flat = body.replace(/\s+/g, ' ');
  return `starts with ${JSON.stringify(flat.slice(0, 40))}`;
}
