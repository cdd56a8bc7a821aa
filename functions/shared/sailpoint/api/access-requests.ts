/**
 * Access requests (beta API): submit. Shapes only; the business rules (limits per entitlement,
 * REVOKE constraints, …) are validated by the access-provisioning workflow.
 * Spec: ops-beta.yaml `POST /access-requests` (AccessRequest, AccessRequestResponse).
 */
import * as z from 'zod';
import type { SailPointTransport } from '../client';
import { isoDateTime, openEnum, parseRequestBody } from './common';

export const AccessRequestItemTypeSchema = z.enum(['ACCESS_PROFILE', 'ROLE', 'ENTITLEMENT']);
export const AccessRequestTypeSchema = z.enum(['GRANT_ACCESS', 'REVOKE_ACCESS']);

export const AccessRequestItemSchema = z.strictObject({
  type: AccessRequestItemTypeSchema,
  id: z.string().min(1),
  /** Required by ISC for REVOKE_ACCESS. */
  comment: z.string().optional(),
  clientMetadata: z.record(z.string(), z.string()).optional(),
  /** Sunset date (future, UTC). */
  removeDate: isoDateTime.optional(),
  /** Sunrise date (newer API versions; GRANT_ACCESS only). */
  startDate: isoDateTime.optional(),
});
export type AccessRequestItem = z.infer<typeof AccessRequestItemSchema>;

/** Request body of POST /beta/access-requests. */
export const AccessRequestSchema = z.strictObject({
  requestedFor: z.array(z.string().min(1)).min(1),
  requestType: AccessRequestTypeSchema.default('GRANT_ACCESS'),
  requestedItems: z.array(AccessRequestItemSchema).min(1),
  clientMetadata: z.record(z.string(), z.string()).optional(),
});
/** Parsed body (requestType filled in). */
export type AccessRequest = z.output<typeof AccessRequestSchema>;
/** What callers pass (requestType optional). */
export type AccessRequestInput = z.input<typeof AccessRequestSchema>;

export const AccessRequestTrackingSchema = z.looseObject({
  requestedFor: z.string().nullish(),
  /** RequestedItemDetails: both fields optional in the spec. */
  requestedItemsDetails: z
    .array(
      z.looseObject({
        type: openEnum(['ACCESS_PROFILE', 'ROLE', 'ENTITLEMENT']).nullish(),
        id: z.string().nullish(),
      }),
    )
    .nullish(),
  attributesHash: z.number().nullish(),
  accessRequestIds: z.array(z.string()).nullish(),
});
export type AccessRequestTracking = z.infer<typeof AccessRequestTrackingSchema>;

const trackingList = z
  .array(AccessRequestTrackingSchema)
  .nullish()
  .transform((v) => v ?? []);

/**
 * 202 body: `{}` in the beta spec, `{ newRequests, existingRequests }` in newer versions, possibly
 * empty. Always parsed to both arrays ([] when absent); `existingRequests` lists items already
 * requested (ISC does not fail on duplicates).
 */
export const AccessRequestAcceptedSchema = z.preprocess(
  (body) => body ?? {},
  z.looseObject({ newRequests: trackingList, existingRequests: trackingList }),
);
export type AccessRequestAccepted = z.output<typeof AccessRequestAcceptedSchema>;

/**
 * POST /beta/access-requests. Not idempotent: on 5xx or a timeout the client does NOT re-send
 * (the error has `outcomeUnknown: true`); check the request status before submitting again.
 * An invalid body is refused locally with SailPointValidationError (no `status`).
 */
export async function createAccessRequest(
  client: SailPointTransport,
  body: AccessRequestInput,
): Promise<AccessRequestAccepted> {
  const operation = 'createAccessRequest';
  return client.send({
    operation,
    method: 'POST',
    path: '/beta/access-requests',
    body: parseRequestBody(operation, AccessRequestSchema, body),
    responseSchema: AccessRequestAcceptedSchema,
  });
}

// ---------------------------------------------------------------------------------------------
// Access request status (v3). Spec: ops-v3.yaml `GET /access-request-status` (RequestedItemStatus).
// Added by the access-provisioning workflow, which reconciles crashed submissions with it.

export const RequestedItemStatusSchema = z.looseObject({
  /** The access request id in current API versions ("as of 2025"); older entries may lack it. */
  id: z.string().nullish(),
  /** Display name of the requested item. */
  name: z.string().nullish(),
  type: openEnum(['ACCESS_PROFILE', 'ROLE', 'ENTITLEMENT']).nullish(),
  state: openEnum([
    'EXECUTING',
    'REQUEST_COMPLETED',
    'CANCELLED',
    'TERMINATED',
    'PROVISIONING_VERIFICATION_PENDING',
    'REJECTED',
    'PROVISIONING_FAILED',
    'NOT_ALL_ITEMS_PROVISIONED',
    'ERROR',
  ]).nullish(),
  /** null means GRANT_ACCESS (the API default). */
  requestType: openEnum(['GRANT_ACCESS', 'REVOKE_ACCESS', 'MODIFY_ACCESS']).nullish(),
  /** Strict: reconciliation matches requests by it (an unreadable one fails the read, it is not skipped). */
  created: isoDateTime.nullish(),
  /** When the entry last changed (a final one: when it finished); unreadable → ignored by callers. */
  modified: z.string().nullish(),
  requestedFor: z
    .looseObject({ type: z.string().nullish(), id: z.string().nullish(), name: z.string().nullish() })
    .nullish(),
  requester: z
    .looseObject({ type: z.string().nullish(), id: z.string().nullish(), name: z.string().nullish() })
    .nullish(),
  /** Per-item clientMetadata sent with the request (values are strings; anything else kept as is). */
  clientMetadata: z.record(z.string(), z.unknown()).nullish(),
  /** The id POST /access-requests returns in `accessRequestIds` (filterable). */
  accessRequestId: z.string().nullish(),
  removeDate: z.string().nullish(),
  cancelable: z.boolean().nullish(),
  /** Each approval step: its status (APPROVED, REJECTED, PENDING, …), who decided it, the approver's comment. */
  approvalDetails: z
    .array(
      z.looseObject({
        status: z.string().nullish(),
        comment: z.string().nullish(),
        modified: z.string().nullish(),
        currentOwner: z.looseObject({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
        originalOwner: z.looseObject({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
      }),
    )
    .nullish(),
  /** Lists of localized messages ({locale, text}) of errors in approval or provisioning. */
  errorMessages: z.array(z.unknown()).nullish(),
});
export type RequestedItemStatus = z.infer<typeof RequestedItemStatusSchema>;

export interface ListAccessRequestStatusQuery {
  /** Identity the requests were made for ("me" for the caller). Exclusive with regardingIdentity. */
  requestedFor?: string;
  requestedBy?: string;
  regardingIdentity?: string;
  assignedTo?: string;
  /** Fields: accessRequestId, accountActivityItemId, created (e.g. `created ge 2024-01-01T00:00:00Z`). */
  filters?: string;
  /** created, modified, accountActivityItemId, name; '-' for descending. */
  sorters?: string;
  /** 0..250, default 250. */
  limit?: number;
  offset?: number;
  /** Only EXECUTING is valid. */
  requestState?: 'EXECUTING';
}

/** GET /v3/access-request-status: one page of requested-item statuses. */
export async function listAccessRequestStatus(
  client: SailPointTransport,
  query: ListAccessRequestStatusQuery = {},
): Promise<RequestedItemStatus[]> {
  return client.send({
    operation: 'listAccessRequestStatus',
    method: 'GET',
    path: '/v3/access-request-status',
    query: {
      'requested-for': query.requestedFor,
      'requested-by': query.requestedBy,
      'regarding-identity': query.regardingIdentity,
      'assigned-to': query.assignedTo,
      filters: query.filters,
      sorters: query.sorters,
      limit: query.limit,
      offset: query.offset,
      'request-state': query.requestState,
    },
    responseSchema: z.array(RequestedItemStatusSchema),
  });
}
