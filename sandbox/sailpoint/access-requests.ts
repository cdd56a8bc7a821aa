/**
 * Access requests, as ISC processes them: asynchronously.
 *
 * POST /beta/access-requests (also /v3): userAuth only, so a pure API client (no user context) gets
 * 403. The body is checked with the rules of the current spec (ops-beta.yaml; 400 ErrorResponseDto
 * naming each problem): at least one item of a known type and id, at most 25 entitlements (other
 * items: no limit); identities exist; GRANT: items requestable, at most 10 recipients when an
 * entitlement is requested; REVOKE: exactly one identity, a comment on every item, at most one
 * entitlement, not the caller's own identity, only access the identity holds, and only by its manager
 * or an ORG_ADMIN (403); removeDate a future UTC date-time (entitlements included).
 * Accepted: 202 and one status record per identity × item in state EXECUTING with a PENDING
 * approval. As the page says, duplicates are not an error: a GRANT of access already held is
 * ignored (no record), and an item already pending for the identity is answered under
 * `existingRequests` without a new record.
 *
 * After `approvalDelayMs` (sandbox clock) each record is decided by `state.accessRequests.decide`:
 * APPROVED → REQUEST_COMPLETED and the identity's access gains (GRANT) or loses (REVOKE) the item —
 * Search shows it after its indexing lag (search-index.ts); REJECTED → REJECTED. Decisions are applied lazily, before the next sandbox request is
 * routed, or when a test calls `settleAccessRequests`.
 *
 * GET /v3/access-request-status (also /beta): RequestedItemStatus list. requested-for / requested-by
 * ("me" = caller) or regarding-identity (exclusive), request-state=EXECUTING, limit (≤250), offset,
 * count (X-Total-Count), filters on accessRequestId, accountActivityItemId, created, sorters on
 * created, modified, accountActivityItemId, name. Statuses of other users need ORG_ADMIN.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller, SandboxContext } from '../context';
import { type FilterSpec, compileFilter } from '../filters';
import { ACCESS_ITEM_TYPES, type AccessItemType } from '../seed';
import { recordAccessChange } from '../search-index';
import { type SandboxState, accessRef } from '../state';
import type { SandboxAccessRequestRecord, SandboxRequestType } from './access-request-state';
import { hasAuthority, requireUserContext } from './auth';
import { SailpointError, randomHexId } from './errors';
import { integerParam } from './params';
import { approverOf, emitAccessRequestEvents } from '../events/emit';

export { createAccessRequestState } from './access-request-state';
export type { SandboxAccessRequestRecord, SandboxAccessRequests } from './access-request-state';

const MAX_ENTITLEMENTS = 25;
const MAX_ENTITLEMENT_RECIPIENTS = 10;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|\+00:?00)$/;

/** An approver for `state.accessRequests.decide` that rejects privileged items. */
export function rejectPrivileged(state: SandboxState) {
  return (record: SandboxAccessRequestRecord) =>
    state.accessItems.get(record.item.id)?.privileged ? 'REJECTED' : 'APPROVED';
}

/** Applies the approval decision to every pending record that is due. */
export function settleAccessRequests(state: SandboxState, now: Date): void {
  const { pending, approvalDelayMs, decide } = state.accessRequests;
  const decided: SandboxAccessRequestRecord[] = [];
  for (const record of pending) {
    if (record.state !== 'EXECUTING') {
      pending.delete(record);
      continue;
    }
    if (record.created.getTime() + approvalDelayMs > now.getTime()) continue;
    pending.delete(record);
    const decision = decide(record);
    record.decision = decision;
    record.modified = now;
    record.approver = approverOf(state, record);
    record.approvalComment = state.triggers.approvalComment(record);
    decided.push(record);
    if (decision === 'REJECTED') {
      record.state = 'REJECTED';
      continue;
    }
    const provisioningError = state.triggers.provisioningError(record);
    if (provisioningError !== null) {
      // Approved, but the source refused: the access is unchanged, the status and the event say why.
      record.provisioningError = provisioningError;
      record.state = 'PROVISIONING_FAILED';
      continue;
    }
    record.state = 'REQUEST_COMPLETED';
    const identity = state.identities.get(record.requestedFor.id);
    const item = state.accessItems.get(record.item.id);
    if (!identity || !item) continue;
    const held = identity.access.findIndex((a) => a.id === item.id);
    if (record.requestType === 'GRANT_ACCESS' && held < 0) {
      const ref = accessRef(item);
      identity.access.push(ref);
      recordAccessChange(state.search, identity.id, 'added', ref, now);
    }
    if (record.requestType === 'REVOKE_ACCESS' && held >= 0) {
      const [ref] = identity.access.splice(held, 1);
      recordAccessChange(state.search, identity.id, 'removed', ref!, now);
    }
  }
  // Subscribers of the access-request triggers hear about it (sandbox/events).
  if (decided.length > 0) emitAccessRequestEvents(state, decided, now);
}

interface RequestedItemInput {
  type: AccessItemType;
  id: string;
  comment?: string;
  removeDate?: string;
  clientMetadata?: Record<string, string>;
}

interface AccessRequestInput {
  requestedFor: string[];
  requestType: SandboxRequestType;
  requestedItems: RequestedItemInput[];
  clientMetadata?: Record<string, string>;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

/** Shape checks; every problem is listed as a cause of one 400. */
function readBody(body: unknown): AccessRequestInput {
  const problems: string[] = [];
  const b = (body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<
    string,
    unknown
  >;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    problems.push('the body must be a JSON object');
  const requestedFor = b.requestedFor;
  if (
    !Array.isArray(requestedFor) ||
    requestedFor.length === 0 ||
    !requestedFor.every((v) => typeof v === 'string' && v)
  ) {
    problems.push('requestedFor: must be a non-empty list of identity ids');
  }
  const requestType = b.requestType ?? 'GRANT_ACCESS';
  if (requestType !== 'GRANT_ACCESS' && requestType !== 'REVOKE_ACCESS') {
    problems.push(`requestType: ${String(requestType)} is not supported (GRANT_ACCESS or REVOKE_ACCESS)`);
  }
  const items = b.requestedItems;
  if (!Array.isArray(items) || items.length < 1) {
    problems.push('requestedItems: must contain at least 1 item');
  } else {
    const entitlements = items.filter(
      (i: unknown) => (i as { type?: unknown } | null)?.type === 'ENTITLEMENT',
    );
    if (entitlements.length > MAX_ENTITLEMENTS) {
      problems.push(
        `requestedItems: at most ${MAX_ENTITLEMENTS} entitlements per request (got ${entitlements.length})`,
      );
    }
    items.forEach((raw: unknown, i) => {
      const item = (raw ?? {}) as Record<string, unknown>;
      if (!ACCESS_ITEM_TYPES.includes(item.type as AccessItemType)) {
        problems.push(`requestedItems[${i}].type: must be one of ${ACCESS_ITEM_TYPES.join(', ')}`);
      }
      if (typeof item.id !== 'string' || item.id === '')
        problems.push(`requestedItems[${i}].id: is required`);
      if (item.comment !== undefined && typeof item.comment !== 'string') {
        problems.push(`requestedItems[${i}].comment: must be a string`);
      }
      if (item.removeDate !== undefined && typeof item.removeDate !== 'string') {
        problems.push(`requestedItems[${i}].removeDate: must be a date-time string`);
      }
      if (item.clientMetadata !== undefined && !isStringMap(item.clientMetadata)) {
        problems.push(`requestedItems[${i}].clientMetadata: must map strings to strings`);
      }
    });
  }
  if (b.clientMetadata !== undefined && !isStringMap(b.clientMetadata)) {
    problems.push('clientMetadata: must map strings to strings');
  }
  if (problems.length > 0) throw badRequest(problems);
  return {
    requestedFor: requestedFor as string[],
    requestType: requestType as SandboxRequestType,
    requestedItems: items as RequestedItemInput[],
    ...(b.clientMetadata === undefined ? {} : { clientMetadata: b.clientMetadata as Record<string, string> }),
  };
}

function badRequest(causes: readonly string[]): SailpointError {
  return new SailpointError(
    400,
    'The request was syntactically correct but its content is semantically invalid.',
    '400.1 Bad Request Content',
    causes,
  );
}

/** The page's business rules, against the tenant's data. */
function checkRules(
  ctx: SandboxContext,
  caller: Caller & { identityId: string },
  input: AccessRequestInput,
): void {
  const { state } = ctx;
  const problems: string[] = [];
  const revoke = input.requestType === 'REVOKE_ACCESS';
  const now = ctx.now().getTime();
  for (const id of input.requestedFor) {
    if (!state.identities.has(id)) problems.push(`requestedFor: identity ${id} was not found`);
  }
  const hasEntitlement = input.requestedItems.some((i) => i.type === 'ENTITLEMENT');
  input.requestedItems.forEach((item, i) => {
    const at = `requestedItems[${i}]`;
    const catalog = state.accessItems.get(item.id);
    if (!catalog || catalog.type !== item.type) problems.push(`${at}: ${item.type} ${item.id} was not found`);
    else if (!revoke && !catalog.requestable)
      problems.push(`${at}: ${item.type} ${item.id} is not requestable`);
    if (revoke && (item.comment === undefined || item.comment.trim() === '')) {
      problems.push(`${at}.comment: a comment is required for REVOKE_ACCESS`);
    }
    if (item.removeDate !== undefined) {
      if (!ISO_UTC.test(item.removeDate) || Number.isNaN(Date.parse(item.removeDate))) {
        problems.push(`${at}.removeDate: must be a UTC date-time`);
      } else if (Date.parse(item.removeDate) <= now) {
        problems.push(`${at}.removeDate: must be in the future`);
      }
    }
  });
  if (!revoke && hasEntitlement && input.requestedFor.length > MAX_ENTITLEMENT_RECIPIENTS) {
    problems.push(
      `requestedFor: at most ${MAX_ENTITLEMENT_RECIPIENTS} identities when entitlements are requested (got ${input.requestedFor.length})`,
    );
  }
  if (revoke) {
    if (input.requestedFor.length !== 1) {
      problems.push(
        `requestedFor: REVOKE_ACCESS takes exactly one identity (got ${input.requestedFor.length})`,
      );
    }
    const entitlements = input.requestedItems.filter((i) => i.type === 'ENTITLEMENT').length;
    if (entitlements > 1)
      problems.push(`requestedItems: REVOKE_ACCESS allows 1 entitlement per request (got ${entitlements})`);
    const target = input.requestedFor.length === 1 ? state.identities.get(input.requestedFor[0]!) : undefined;
    if (target?.id === caller.identityId)
      problems.push('requestedFor: REVOKE_ACCESS does not support self request');
    if (target) {
      input.requestedItems.forEach((item, i) => {
        if (!target.access.some((a) => a.id === item.id)) {
          problems.push(`requestedItems[${i}]: identity ${target.id} does not have ${item.type} ${item.id}`);
        }
      });
    }
  }
  if (problems.length > 0) throw badRequest(problems);
  if (revoke) {
    const target = state.identities.get(input.requestedFor[0]!)!;
    if (!hasAuthority(caller, 'ORG_ADMIN') && target.managerId !== caller.identityId) {
      throw new SailpointError(
        403,
        'Only the manager of the identity or an ORG_ADMIN can request to revoke its access.',
        '403 Forbidden',
      );
    }
  }
}

interface Tracking {
  requestedFor: string;
  requestedItemsDetails: { type: AccessItemType; id: string }[];
  attributesHash: number;
  accessRequestIds: string[];
}

function hashOf(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

function submit(ctx: SandboxContext, caller: Caller & { identityId: string }, input: AccessRequestInput) {
  const { state } = ctx;
  const now = ctx.now();
  const requester = state.identities.get(caller.identityId);
  const newRequests: Tracking[] = [];
  const existingRequests: Tracking[] = [];
  for (const identityId of input.requestedFor) {
    const identity = state.identities.get(identityId)!;
    const accessRequestId = randomHexId();
    const created: RequestedItemInput[] = [];
    const existing = new Map<string, RequestedItemInput[]>();
    for (const item of input.requestedItems) {
      if (input.requestType === 'GRANT_ACCESS' && identity.access.some((a) => a.id === item.id)) continue; // ignored
      const pending = [...state.accessRequests.pending].find(
        (r) =>
          r.state === 'EXECUTING' &&
          r.requestedFor.id === identityId &&
          r.item.id === item.id &&
          r.requestType === input.requestType,
      );
      if (pending) {
        existing.set(pending.accessRequestId, [...(existing.get(pending.accessRequestId) ?? []), item]);
        continue;
      }
      const catalog = state.accessItems.get(item.id)!;
      const metadata = { ...input.clientMetadata, ...item.clientMetadata };
      const record: SandboxAccessRequestRecord = {
        accessRequestId,
        accountActivityItemId: randomHexId(),
        requestType: input.requestType,
        requestedFor: { id: identity.id, name: identity.displayName },
        requester: { id: caller.identityId, name: requester?.displayName ?? caller.identityId },
        item: {
          type: catalog.type,
          id: catalog.id,
          name: catalog.displayName,
          description: catalog.description,
        },
        ...(item.comment === undefined ? {} : { comment: item.comment }),
        ...(item.removeDate === undefined ? {} : { removeDate: item.removeDate }),
        clientMetadata: Object.keys(metadata).length > 0 ? metadata : null,
        created: now,
        modified: now,
        state: 'EXECUTING',
      };
      state.accessRequests.records.push(record);
      state.accessRequests.pending.add(record);
      created.push(item);
    }
    const tracking = (ids: string[], items: RequestedItemInput[]): Tracking => ({
      requestedFor: identityId,
      requestedItemsDetails: items.map((i) => ({ type: i.type, id: i.id })),
      attributesHash: hashOf(`${identityId}|${items.map((i) => `${i.type}:${i.id}`).join(',')}`),
      accessRequestIds: ids,
    });
    if (created.length > 0) newRequests.push(tracking([accessRequestId], created));
    for (const [id, items] of existing) existingRequests.push(tracking([id], items));
  }
  return { newRequests, existingRequests };
}

function statusBody(record: SandboxAccessRequestRecord): Record<string, unknown> {
  const pending = record.state === 'EXECUTING';
  const approved = record.decision === 'APPROVED';
  const created = record.created.toISOString();
  const modified = record.modified.toISOString();
  return {
    id: record.accessRequestId,
    name: record.item.name,
    type: record.item.type,
    cancelledRequestDetails: null,
    errorMessages: record.provisioningError
      ? [[{ locale: 'en-US', localeOrigin: 'DEFAULT', text: record.provisioningError }]]
      : null,
    state: record.state,
    approvalDetails: [
      {
        approvalId: null,
        forwarded: false,
        originalOwner: { type: 'IDENTITY', id: record.requester.id, name: record.requester.name },
        currentOwner: record.approver
          ? { type: 'IDENTITY', id: record.approver.id, name: record.approver.name }
          : null,
        modified: pending ? null : modified,
        status: pending ? 'PENDING' : (record.decision ?? 'PENDING'),
        scheme: 'MANAGER',
        errorMessages: null,
        comment: record.approvalComment ?? null,
        removeDate: record.removeDate ?? null,
      },
    ],
    approvalIds: [],
    manualWorkItemDetails: null,
    accountActivityItemId: record.accountActivityItemId,
    requestType: record.requestType,
    modified,
    created,
    requester: { type: 'IDENTITY', id: record.requester.id, name: record.requester.name },
    requestedFor: { type: 'IDENTITY', id: record.requestedFor.id, name: record.requestedFor.name },
    requesterComment:
      record.comment === undefined
        ? null
        : {
            comment: record.comment,
            created,
            author: { type: 'IDENTITY', id: record.requester.id, name: record.requester.name },
          },
    sodViolationContext: null,
    provisioningDetails: null,
    preApprovalTriggerDetails: null,
    accessRequestPhases: [
      {
        started: created,
        finished: pending ? null : modified,
        name: 'APPROVAL_PHASE',
        state: pending ? 'EXECUTING' : 'COMPLETED',
        result: pending ? null : approved ? 'SUCCESSFUL' : 'FAILED',
        phaseReference: 'approvalDetails',
      },
      {
        started: pending || !approved ? null : modified,
        finished: pending || !approved ? null : modified,
        name: 'PROVISIONING_PHASE',
        state: pending ? 'PENDING' : approved ? 'COMPLETED' : 'NOT_EXECUTED',
        result: pending || !approved ? null : record.provisioningError ? 'FAILED' : 'SUCCESSFUL',
        phaseReference: null,
      },
    ],
    description: record.item.description,
    startDate: null,
    removeDate: record.removeDate ?? null,
    cancelable: pending,
    accessRequestId: record.accessRequestId,
    clientMetadata: record.clientMetadata ? { ...record.clientMetadata } : null,
    requestedAccounts: null,
    privilegeLevel: null,
  };
}

const STATUS_FILTERS: FilterSpec<SandboxAccessRequestRecord> = {
  accessRequestId: { type: 'string', operators: ['eq', 'ge', 'gt', 'le', 'lt', 'ne', 'in', 'sw'] },
  accountActivityItemId: { type: 'string', operators: ['eq', 'in', 'ge', 'gt', 'le', 'ne', 'sw'] },
  created: { type: 'date', operators: ['eq', 'ge', 'gt', 'le', 'lt', 'ne'], get: (r) => r.created },
};

const SORT_KEYS: Readonly<Record<string, (r: SandboxAccessRequestRecord) => string | number>> = {
  created: (r) => r.created.getTime(),
  modified: (r) => r.modified.getTime(),
  accountActivityItemId: (r) => r.accountActivityItemId,
  name: (r) => r.item.name.toLowerCase(),
};

function comparator(sorters: string | undefined) {
  const keys = (sorters ?? 'created')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const desc = s.startsWith('-');
      const name = desc ? s.slice(1) : s;
      const get = SORT_KEYS[name];
      if (!get)
        throw new SailpointError(400, `Invalid sorters: sorting is not supported for field '${name}'`);
      return { get, desc };
    });
  return (a: SandboxAccessRequestRecord, b: SandboxAccessRequestRecord) => {
    for (const { get, desc } of keys) {
      const [x, y] = [get(a), get(b)];
      if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
    }
    return 0;
  };
}

function listStatuses(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply) {
  const caller = requireUserContext(request);
  const q = request.query as Record<string, string | undefined>;
  const me = (v: string | undefined) => (v === 'me' ? caller.identityId : v);
  const requestedFor = me(q['requested-for']);
  const requestedBy = me(q['requested-by']);
  const regarding = me(q['regarding-identity']);
  if (regarding !== undefined && (requestedFor !== undefined || requestedBy !== undefined)) {
    throw new SailpointError(
      400,
      'regarding-identity is mutually exclusive with requested-for and requested-by',
    );
  }
  if (q['request-state'] !== undefined && q['request-state'] !== 'EXECUTING') {
    throw new SailpointError(
      400,
      `Invalid request-state '${q['request-state']}': the only valid value is EXECUTING`,
    );
  }
  const limit = integerParam(q.limit, 'limit', 0, 250, 250);
  const offset = integerParam(q.offset, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
  const admin = hasAuthority(caller, 'ORG_ADMIN');
  const onlyOwn =
    requestedFor === caller.identityId ||
    requestedBy === caller.identityId ||
    regarding === caller.identityId;
  if (!admin && !onlyOwn) {
    throw new SailpointError(
      403,
      'Listing the access request statuses of other users requires ORG_ADMIN.',
      '403 Forbidden',
    );
  }
  const matches = compileFilter(q.filters, STATUS_FILTERS);
  const compare = comparator(q.sorters);
  const all = ctx.state.accessRequests.records
    .filter(
      (r) =>
        (requestedFor === undefined || r.requestedFor.id === requestedFor) &&
        (requestedBy === undefined || r.requester.id === requestedBy) &&
        (regarding === undefined || r.requestedFor.id === regarding || r.requester.id === regarding) &&
        (q['request-state'] === undefined || r.state === 'EXECUTING'),
    )
    .filter(matches)
    .sort(compare);
  if (q.count === 'true') reply.header('x-total-count', String(all.length));
  return all.slice(offset, offset + limit).map(statusBody);
}

export function registerAccessRequestRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  // Pending approvals that are due are decided before any request is routed, so every read
  // (status list, Search documents) sees the same, current picture.
  app.addHook('onRequest', async () => settleAccessRequests(ctx.state, ctx.now()));

  const create = async (request: FastifyRequest, reply: FastifyReply) => {
    const caller = requireUserContext(request);
    const input = readBody(request.body);
    checkRules(ctx, caller, input);
    const tracking = submit(ctx, caller, input);
    return reply.code(202).send(ctx.state.accessRequests.responseBody === 'empty' ? {} : tracking);
  };
  app.post('/beta/access-requests', create);
  app.post('/v3/access-requests', create);
  app.get('/v3/access-request-status', async (request, reply) => listStatuses(ctx, request, reply));
  app.get('/beta/access-request-status', async (request, reply) => listStatuses(ctx, request, reply));
}
