/**
 * The sandbox's access requests: one record per requested item per identity (as ISC's
 * /access-request-status lists them), and the knobs tests and demos turn. Kept apart from the routes
 * (access-requests.ts) so sandbox/state.ts can hold it without importing route code.
 */
import type { AccessItemType } from '../seed';

export type SandboxRequestType = 'GRANT_ACCESS' | 'REVOKE_ACCESS';

/** RequestedItemStatusRequestState values the sandbox produces. */
export type SandboxRequestState = 'EXECUTING' | 'REQUEST_COMPLETED' | 'REJECTED' | 'PROVISIONING_FAILED';

export type ApprovalDecision = 'APPROVED' | 'REJECTED';

export interface SandboxRef {
  readonly id: string;
  readonly name: string;
}

export interface SandboxAccessRequestRecord {
  /** The access request id (one per identity per POST), also returned in `accessRequestIds`. */
  readonly accessRequestId: string;
  /** Unique per record (identity × item). */
  readonly accountActivityItemId: string;
  readonly requestType: SandboxRequestType;
  readonly requestedFor: SandboxRef;
  readonly requester: SandboxRef;
  readonly item: {
    readonly type: AccessItemType;
    readonly id: string;
    readonly name: string;
    readonly description: string | null;
  };
  readonly comment?: string;
  readonly removeDate?: string;
  /** The item's clientMetadata over the request's (as sent). */
  readonly clientMetadata: Readonly<Record<string, string>> | null;
  readonly created: Date;
  modified: Date;
  state: SandboxRequestState;
  decision?: ApprovalDecision;
  /** Who decided, and their comment (set with the decision; the status list and the events show them). */
  approver?: SandboxRef;
  approvalComment?: string | null;
  /** Why provisioning failed (state PROVISIONING_FAILED; `state.triggers.provisioningError`). */
  provisioningError?: string;
}

export interface SandboxAccessRequests {
  /** Every request item, in creation order. */
  readonly records: SandboxAccessRequestRecord[];
  /** The records still EXECUTING (an index over `records`). */
  readonly pending: Set<SandboxAccessRequestRecord>;
  /**
   * Sandbox-clock time from submission to the approval decision. Pending requests are decided lazily,
   * at the first sandbox request after they are due (or by `settleAccessRequests`). Default 0.
   */
  approvalDelayMs: number;
  /** The approver. Default: approve everything (`rejectPrivileged` rejects privileged items). */
  decide: (record: SandboxAccessRequestRecord) => ApprovalDecision;
  /**
   * The 202 body: 'tracking' = `{ newRequests, existingRequests }` with accessRequestIds (current API
   * versions); 'empty' = `{}` as in the beta page. Default 'tracking'.
   */
  responseBody: 'tracking' | 'empty';
}

export function createAccessRequestState(): SandboxAccessRequests {
  return {
    records: [],
    pending: new Set(),
    approvalDelayMs: 0,
    decide: () => 'APPROVED',
    responseBody: 'tracking',
  };
}
