/**
 * The SailPoint operations this workflow needs, as a port, and its adapter over the shared client.
 * The workflow depends on the interface; tests may pass a fake, integration tests the adapter
 * against the sandbox.
 */
import type { SailPointTransport } from '../shared/sailpoint/client';
import {
  createAccessRequest,
  listAccessRequestStatus,
  type AccessRequestAccepted,
} from '../shared/sailpoint/api/access-requests';
import { searchIdentityAccess } from '../shared/sailpoint/api/search';
import type { AccessRequestBody } from './coalesce';
import { ITEM_MARKER_KEY } from './coalesce';
import type { RequestStatusEntry } from './reconcile';

export interface HeldAccess {
  readonly type: string;
  readonly id: string;
}

/** An identity as Search shows it: its access, and when the document last changed. */
export interface IdentityAccess {
  readonly access: readonly HeldAccess[];
  /** Epoch ms of the document's `modified`: Search's picture is at least this current. */
  readonly modified: number;
}

export interface RequesterContext {
  /** Absent: the credential is a pure API client without user context. */
  readonly identityId?: string;
  readonly clientId?: string;
}

/** Access request ids SailPoint returned for one identity and item (newer API versions only). */
export interface TrackedRequest {
  readonly requestedFor: string;
  readonly itemType: string;
  readonly itemId: string;
  readonly accessRequestIds: readonly string[];
  /** Listed under existingRequests: SailPoint already had a request for it. */
  readonly existing: boolean;
}

export interface AccessRequestGateway {
  requester(): Promise<RequesterContext>;
  /**
   * The current access of these identities (Search, many per call). An identity missing from the
   * map has no document: unknown to the tenant, or not indexed yet.
   */
  identitiesAccess(identityIds: readonly string[]): Promise<Map<string, IdentityAccess>>;
  /** Status entries of requests made for the identity, created at or after `since` (epoch ms). */
  requestStatuses(identityId: string, since: number): Promise<readonly RequestStatusEntry[]>;
  /** POST /beta/access-requests. Throws the client's typed errors. */
  submit(body: AccessRequestBody): Promise<readonly TrackedRequest[]>;
  /**
   * Announces `count` submits about to be made, so a shared rate budget sets their send times aside
   * in one block (functions/shared/sailpoint/shared-budget.ts). Best effort; absent: nothing to do.
   */
  reserveSubmits?(count: number): Promise<void>;
  /**
   * This gateway with a deadline on every call (epoch ms): no call, nor any of its waits (rate budget,
   * Retry-After, backoff, timeouts), runs past it; a call it stops throws SailPointDeadlineError
   * (nothing sent). Absent: calls are not bounded.
   */
  withDeadline?(deadline: number): AccessRequestGateway;
}

type GatewayClient = SailPointTransport & {
  tokenInfo(): Promise<RequesterContext>;
  reserveCalls?(path: string, count: number): Promise<void>;
  withDeadline?(deadline: number): GatewayClient;
};

/** Most entries one status call returns (the API's page size limit). */
const STATUS_PAGE_SIZE = 250;
/** Where submits go (createAccessRequest): the budget counts them under its API version. */
const ACCESS_REQUESTS_PATH = '/beta/access-requests';

export class SailPointAccessRequestGateway implements AccessRequestGateway {
  constructor(private readonly client: GatewayClient) {}

  withDeadline(deadline: number): AccessRequestGateway {
    return this.client.withDeadline
      ? new SailPointAccessRequestGateway(this.client.withDeadline(deadline))
      : this;
  }

  async requester(): Promise<RequesterContext> {
    const info = await this.client.tokenInfo();
    return {
      ...(info.identityId ? { identityId: info.identityId } : {}),
      ...(info.clientId ? { clientId: info.clientId } : {}),
    };
  }

  async identitiesAccess(identityIds: readonly string[]): Promise<Map<string, IdentityAccess>> {
    // One page per call: the caller sizes the chunks of identities (SEARCH_IDENTITIES_PER_CALL).
    const docs = await searchIdentityAccess(this.client, identityIds, {
      pageSize: Math.max(1, identityIds.length),
    });
    const out = new Map<string, IdentityAccess>();
    for (const [id, doc] of docs) {
      out.set(id, {
        access: doc.access.map((a) => ({ type: a.type, id: a.id })),
        modified: Date.parse(doc.modified),
      });
    }
    return out;
  }

  async requestStatuses(identityId: string, since: number): Promise<readonly RequestStatusEntry[]> {
    // Newest first, so if more than a page were created since `since`, the recent ones are seen.
    const statuses = await listAccessRequestStatus(this.client, {
      requestedFor: identityId,
      filters: `created ge ${new Date(Math.max(0, since)).toISOString()}`,
      sorters: '-created',
      limit: STATUS_PAGE_SIZE,
    });
    return statuses.flatMap((s): RequestStatusEntry[] => {
      const created = s.created ? Date.parse(s.created) : NaN;
      if (Number.isNaN(created)) return [];
      const marker = s.clientMetadata?.[ITEM_MARKER_KEY];
      return [
        {
          requestType: s.requestType ?? 'GRANT_ACCESS',
          ...(s.type ? { itemType: s.type } : {}),
          ...(s.id ? { id: s.id } : {}),
          ...(typeof marker === 'string' ? { marker } : {}),
          ...(s.requestedFor?.id ? { requestedForId: s.requestedFor.id } : {}),
          created,
          ...(s.state ? { state: s.state } : {}),
          ...(s.modified && !Number.isNaN(Date.parse(s.modified))
            ? { modified: Date.parse(s.modified) }
            : {}),
          ...(s.accessRequestId ? { accessRequestId: s.accessRequestId } : {}),
        },
      ];
    });
  }

  async reserveSubmits(count: number): Promise<void> {
    await this.client.reserveCalls?.(ACCESS_REQUESTS_PATH, count);
  }

  async submit(body: AccessRequestBody): Promise<readonly TrackedRequest[]> {
    return trackedRequests(await createAccessRequest(this.client, body));
  }
}

/** Flattens the 202 body ({} in the beta page; newRequests/existingRequests in newer versions). */
export function trackedRequests(accepted: AccessRequestAccepted): TrackedRequest[] {
  const flatten = (list: AccessRequestAccepted['newRequests'], existing: boolean) =>
    list.flatMap((t) =>
      (t.requestedItemsDetails ?? []).flatMap((item) =>
        // The spec leaves an item's type and id optional: one without them names no unit.
        item.type && item.id
          ? [
              {
                requestedFor: t.requestedFor ?? '',
                itemType: item.type,
                itemId: item.id,
                accessRequestIds: t.accessRequestIds ?? [],
                existing,
              },
            ]
          : [],
      ),
    );
  return [...flatten(accepted.newRequests, false), ...flatten(accepted.existingRequests, true)];
}
