/**
 * The sandbox tenant's in-memory data. Route modules read and change it; tests may read and
 * change it directly between requests.
 *
 * To add a collection (access requests, reassignment configurations, Cognigy users …): add a
 * field to `SandboxState` and initialise it in `createSandboxState`.
 */
import type { AccessItemType, OAuthClient, ParsedSeed } from './seed';
import { type CognigySandboxState, createCognigyState } from './cognigy/state';
import { type SandboxAccessRequests, createAccessRequestState } from './sailpoint/access-request-state';
import { type SandboxSearchIndex, createSearchIndex } from './search-index';
import { type SandboxEventTriggers, createEventTriggerState } from './events/state';

export type { OAuthClient } from './seed';

const DAY_MS = 86_400_000;

export interface SandboxTenant {
  readonly name: string;
  readonly tenantId: string;
  readonly pod: string;
  readonly org: string;
}

export interface SandboxSourceRef {
  id: string;
  name: string;
}

/** An item of the access catalog (roles, access profiles, entitlements). */
export interface SandboxAccessItem {
  id: string;
  type: AccessItemType;
  name: string;
  displayName: string;
  description: string | null;
  source?: SandboxSourceRef;
  privileged: boolean;
  requestable: boolean;
  attribute?: string;
  value?: string;
}

/** An access item an identity holds. */
export interface SandboxAccessRef {
  id: string;
  type: AccessItemType;
  name: string;
  displayName?: string;
  source?: SandboxSourceRef;
}

export interface SandboxIdentity {
  id: string;
  /** The login name (ISC `name`). */
  name: string;
  displayName: string;
  firstName: string;
  lastName: string;
  email: string | null;
  /** Absent or undefined: no manager. */
  managerId?: string;
  employeeNumber?: string;
  inactive: boolean;
  /** ISC identity status, e.g. ACTIVE or INACTIVE. */
  status: string;
  /** ISO date-time. */
  created: string;
  attributes: Record<string, unknown>;
  access: SandboxAccessRef[];
}

/** As GET /beta/personal-access-tokens returns it. */
export interface SandboxPat {
  id: string;
  name: string;
  scope: string[] | null;
  owner: { type: 'IDENTITY'; id: string; name: string };
  /** ISO date-time. */
  created: string;
  /** ISO date-time, or null when never used. */
  lastUsed: string | null;
  managed: boolean;
}

/** An access token issued by POST /oauth/token. */
export interface IssuedAccessToken {
  readonly jti: string;
  readonly clientId: string;
  readonly identityId?: string;
  readonly authorities: readonly string[];
  readonly scope: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** One work type's reassignment of an identity (sandbox/sailpoint/reassignment-configurations.ts). */
export interface SandboxReassignment {
  configType: 'ACCESS_REQUESTS' | 'CERTIFICATIONS' | 'MANUAL_TASKS';
  targetId: string;
  /** ISO date-time. */
  startDate: string;
  /** ISO date-time, or null for a permanent reassignment. */
  endDate: string | null;
  created: string;
  createdBy: { id: string; name: string };
  modified: string;
  modifiedBy: { id: string; name: string };
}

export interface SandboxState {
  readonly tenant: SandboxTenant;
  readonly sources: Map<string, SandboxSourceRef>;
  readonly accessItems: Map<string, SandboxAccessItem>;
  readonly identities: Map<string, SandboxIdentity>;
  readonly personalAccessTokens: Map<string, SandboxPat>;
  readonly clients: Map<string, OAuthClient>;
  /** Issued access tokens by token string. Delete one to revoke it. */
  readonly accessTokens: Map<string, IssuedAccessToken>;
  /** Access requests (POST /beta/access-requests) and the approval knobs (sailpoint/access-requests.ts). */
  readonly accessRequests: SandboxAccessRequests;
  /** Cognigy.AI users, rights and API keys (sandbox/cognigy). */
  readonly cognigy: CognigySandboxState;
  /** Work reassignments: identity id → work type → configuration (one per identity and type). */
  readonly reassignments: Map<string, Map<SandboxReassignment['configType'], SandboxReassignment>>;
  /** Search's indexing lag: `search.lagMs` (change it freely) and the changes not indexed yet (search-index.ts). */
  readonly search: SandboxSearchIndex;
  /** Event trigger subscriptions and where their EventBridge deliveries go (sandbox/events). */
  readonly triggers: SandboxEventTriggers;
}

export function accessRef(item: SandboxAccessItem): SandboxAccessRef {
  return {
    id: item.id,
    type: item.type,
    name: item.name,
    displayName: item.displayName,
    ...(item.source ? { source: { ...item.source } } : {}),
  };
}

/** Builds the state from a validated seed, resolving relative days against `now`. */
export function createSandboxState(
  seed: ParsedSeed,
  clients: readonly OAuthClient[],
  now: Date,
  searchLagMs?: number,
): SandboxState {
  const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS).toISOString();
  const sources = new Map(seed.sources.map((s) => [s.id, { id: s.id, name: s.name }]));
  const accessItems = new Map<string, SandboxAccessItem>(
    seed.accessItems.map((a) => {
      const source = a.sourceId === undefined ? undefined : sources.get(a.sourceId);
      const item: SandboxAccessItem = {
        id: a.id,
        type: a.type,
        name: a.name,
        displayName: a.displayName ?? a.name,
        description: a.description,
        ...(source ? { source: { ...source } } : {}),
        privileged: a.privileged,
        requestable: a.requestable,
        ...(a.attribute === undefined ? {} : { attribute: a.attribute }),
        ...(a.value === undefined ? {} : { value: a.value }),
      };
      return [a.id, item];
    }),
  );
  const identities = new Map<string, SandboxIdentity>(
    seed.identities.map((i) => {
      const identity: SandboxIdentity = {
        id: i.id,
        name: i.name,
        displayName: i.displayName,
        firstName: i.firstName,
        lastName: i.lastName,
        email: i.email,
        ...(i.managerId === null ? {} : { managerId: i.managerId }),
        ...(i.employeeNumber === undefined ? {} : { employeeNumber: i.employeeNumber }),
        inactive: i.inactive,
        status: i.status ?? (i.inactive ? 'INACTIVE' : 'ACTIVE'),
        created: daysAgo(i.createdDaysAgo),
        attributes: { ...i.attributes },
        access: i.access.map((id) => accessRef(accessItems.get(id)!)),
      };
      return [i.id, identity];
    }),
  );
  const personalAccessTokens = new Map<string, SandboxPat>(
    seed.personalAccessTokens.map((p) => {
      const owner = identities.get(p.ownerId)!;
      const pat: SandboxPat = {
        id: p.id,
        name: p.name,
        scope: p.scope === null ? null : [...p.scope],
        owner: { type: 'IDENTITY', id: owner.id, name: owner.displayName },
        created: daysAgo(p.createdDaysAgo),
        lastUsed: p.lastUsedDaysAgo === null ? null : daysAgo(p.lastUsedDaysAgo),
        managed: p.managed,
      };
      return [p.id, pat];
    }),
  );
  return {
    tenant: { ...seed.tenant },
    sources,
    accessItems,
    identities,
    personalAccessTokens,
    clients: new Map(clients.map((c) => [c.clientId, { ...c }])),
    accessTokens: new Map(),
    accessRequests: createAccessRequestState(),
    cognigy: createCognigyState(now),
    reassignments: new Map(),
    triggers: createEventTriggerState(),
    search: createSearchIndex(searchLagMs),
  };
}
