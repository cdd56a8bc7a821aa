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

/** Ids end up in DynamoDB keys (joined with '#') and URL paths: SailPoint ids only (shared/sailpoint/ids.ts). */
const Id = sailPointId();

const Metadata = z
  .record(z.string().min(1).max(256), z.string({ error: 'values must be strings' }).max(4000))
  .refine((m) => Object.keys(m).every((k) => !k.startsWith(RESERVED_METADATA_PREFIX)), {
    error: `keys starting with "${RESERVED_METADATA_PREFIX}" are reserved for this workflow`,
  });

export const RequestedItemSchema = z.strictObject({
  type: z.enum(ACCESS_ITEM_TYPES, { error: `must be one of ${ACCESS_ITEM_TYPES.join(', ')}` }),
  id: Id,
  comment: z.string().trim().min(1, { error: 'must not be empty' }).max(4000).optional(),
  /** UTC, as the page requires ("in the UTC timezone"): offsets other than Z are refused. */
  removeDate: z.iso
    .datetime({ error: 'must be an ISO-8601 UTC date-time such as 2030-01-31T00:00:00Z' })
    .optional(),
  clientMetadata: Metadata.optional(),
});

export const AccessRequestMessageSchema = z.strictObject({
  /** The caller's own reference; outcomes can be looked up by it. */
  requestId: z.string().trim().min(1).max(256).optional(),
  requestedFor: z
    .array(Id, { error: 'must be an array of identity ids' })
    .min(1, { error: 'must name at least one identity' }),
  /** Defaults to GRANT_ACCESS, as in the API. */
  requestType: z
    .enum(REQUEST_TYPES, { error: 'must be GRANT_ACCESS or REVOKE_ACCESS' })
    .nullish()
    .transform((v): RequestType => v ?? 'GRANT_ACCESS'),
  requestedItems: z
    .array(RequestedItemSchema, { error: 'must be an array of items' })
    .min(1, { error: 'must contain at least 1 item' }),
  clientMetadata: Metadata.optional(),
});

export type AccessRequestMessage = z.output<typeof AccessRequestMessageSchema>;
export type RequestedItem = z.output<typeof RequestedItemSchema>;

export type ParsedMessage =
  { ok: true; message: AccessRequestMessage } | { ok: false; reason: string; requestId?: string };

/** Parses and validates one queue message body. `now` decides whether a removeDate is in the future. */
export function parseAccessRequestMessage(body: string, now: number): ParsedMessage {
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
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 256) : undefined;
}

function describeBody(body: string): string {
  if (body.trim() === '') return 'empty body';
  const flat = body.replace(/\s+/g, ' ');
  return `starts with ${JSON.stringify(flat.slice(0, 40))}`;
}
