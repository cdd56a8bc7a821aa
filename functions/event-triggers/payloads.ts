/**
 * The EventBridge envelope and the payloads (`detail`) of the four triggers, from SailPoint's schemas
 * (/work/shared/reference/official/triggers/: accessrequestpostapproval.yaml, provisioningcompleted.yaml,
 * identityattributeschanged.yaml, identitydeleted.yaml). Required fields are required; fields not in
 * the schema (e.g. `_metadata`, which ISC adds to some deliveries) are tolerated and kept, so a new field
 * never dead-letters an event. Identity ids, which become DynamoDB keys and URL paths, must be SailPoint
 * ids (32 hex, lower-cased); ids this product only compares are plain strings.
 */
import * as z from 'zod';
import { sailPointId } from '../shared/sailpoint/ids';
import type { TriggerKey } from './triggers';

/** What EventBridge delivers to an SQS target (the message body) or a function (the event). */
export const EventBridgeEnvelopeSchema = z.looseObject({
  version: z.string(),
  id: z.string().min(1, 'must not be empty'),
  'detail-type': z.string(),
  source: z.string().min(1, 'must not be empty'),
  account: z.string(),
  time: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' }),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.record(z.string(), z.unknown(), { error: 'must be an object (the trigger payload)' }),
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelopeSchema>;

const text = () => z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') });
const identityRef = () => z.looseObject({ type: z.literal('IDENTITY'), id: sailPointId(), name: text() });
/** A reference whose id this product never puts in a key or path. */
const anyIdentityRef = () => z.looseObject({ type: z.literal('IDENTITY'), id: text(), name: text() });

// --- Access Request Decision (idn:access-request-post-approval) ---

export const ApprovalInfoSchema = z.looseObject({
  approvalComment: z.string().nullish(),
  approvalDecision: z.enum(['APPROVED', 'DENIED']),
  approverName: text(),
  approver: anyIdentityRef(),
});

export const RequestedItemStatusSchema = z.looseObject({
  id: text(),
  name: text(),
  description: z.string().nullish(),
  type: z.enum(['ACCESS_PROFILE', 'ROLE', 'ENTITLEMENT']),
  operation: z.enum(['Add', 'Remove']),
  comment: z.string().nullish(),
  clientMetadata: z.record(z.string(), z.unknown()).nullish(),
  approvalInfo: z.array(ApprovalInfoSchema),
});

export const AccessRequestDecisionSchema = z.looseObject({
  accessRequestId: text().min(1),
  requestedFor: z.array(identityRef()).min(1).max(10),
  requestedItemsStatus: z.array(RequestedItemStatusSchema),
  requestedBy: anyIdentityRef(),
});
export type AccessRequestDecision = z.infer<typeof AccessRequestDecisionSchema>;

// --- Provisioning Completed (idn:post-provisioning) ---

export const AccountRequestSchema = z.looseObject({
  source: z.looseObject({ id: text(), type: z.literal('SOURCE'), name: text() }),
  accountId: z.string().optional(),
  accountOperation: text(),
  provisioningResult: z.enum(['SUCCESS', 'PENDING', 'FAILED']),
  provisioningTarget: text(),
  ticketId: z.string().nullish(),
  attributeRequests: z
    .array(
      z.looseObject({
        attributeName: text(),
        attributeValue: z.string().nullish(),
        operation: z.enum(['Add', 'Set', 'Remove']),
      }),
    )
    .nullish(),
});

export const ProvisioningCompletedSchema = z.looseObject({
  trackingNumber: text().min(1),
  sources: text(),
  action: z.string().nullish(),
  errors: z.array(z.string()).nullish(),
  warnings: z.array(z.string()).nullish(),
  recipient: identityRef(),
  requester: anyIdentityRef().nullish(),
  accountRequests: z.array(AccountRequestSchema),
});
export type ProvisioningCompleted = z.infer<typeof ProvisioningCompletedSchema>;

// --- Identity Attributes Changed (idn:identity-attributes-changed) ---

/** An attribute value as the schema allows it: string, boolean, list of strings, or a flat map. */
export const AttributeValueSchema = z.union([
  z.string(),
  z.boolean(),
  z.array(z.string()),
  z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  z.null(),
]);
export type AttributeValue = z.infer<typeof AttributeValueSchema>;

export const IdentityAttributesChangedSchema = z.looseObject({
  identity: identityRef(),
  changes: z.array(
    z.looseObject({
      attribute: text().min(1),
      oldValue: AttributeValueSchema.optional(),
      newValue: AttributeValueSchema.optional(),
    }),
  ),
});
export type IdentityAttributesChanged = z.infer<typeof IdentityAttributesChangedSchema>;

// --- Identity Deleted (idn:identity-deleted) ---

export const IdentityDeletedSchema = z.looseObject({
  identity: identityRef(),
  attributes: z.record(z.string(), z.unknown()),
});
export type IdentityDeleted = z.infer<typeof IdentityDeletedSchema>;

export const PAYLOAD_SCHEMAS = {
  accessRequestDecision: AccessRequestDecisionSchema,
  provisioningCompleted: ProvisioningCompletedSchema,
  identityAttributesChanged: IdentityAttributesChangedSchema,
  identityDeleted: IdentityDeletedSchema,
} as const satisfies Record<TriggerKey, z.ZodType>;

export interface PayloadOf {
  accessRequestDecision: AccessRequestDecision;
  provisioningCompleted: ProvisioningCompleted;
  identityAttributesChanged: IdentityAttributesChanged;
  identityDeleted: IdentityDeleted;
}

/** "path: message; path: message" — every problem, for the dead-letter reason. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
