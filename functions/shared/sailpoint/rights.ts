/**
 * The SailPoint rights each workflow needs, and the preflight that checks a credential has them.
 *
 * OPERATION_RIGHTS is copied from SailPoint's official specs (ops-beta.yaml, ops-v3.yaml): each
 * operation's `security` (the scopes, any one of which allows the call; `userAuth` only means a PAT,
 * not an API client) and `x-sailpoint-userLevels` (the user levels that hold it). Where an
 * operation's description is narrower than its `security` list, the note says so.
 *
 * The preflight reads the credential's token (SailPointClient.tokenInfo: identity, authorities, and
 * the scopes when the token names them) and names every right a workflow's operations need that the
 * token visibly lacks. It only refuses what it can see: a token that names no scopes is not judged
 * on scopes; `sp:scopes:all` (and the legacy `sp:scopes:default`) defer to the user level.
 */
import type { SailPointCaller, TokenInfo } from './client';
import { SailPointAuthError } from './errors';

export interface OperationRights {
  /** Method and path, as in the spec. */
  readonly request: string;
  /** `security` scopes: any one of them allows the call. */
  readonly scopes: readonly string[];
  /** `x-sailpoint-userLevels`; absent when the spec names none. */
  readonly userLevels?: readonly string[];
  /** The only security scheme is `userAuth`: a personal access token, never an API client. */
  readonly userContext: boolean;
  /** Where the description narrows `security`. */
  readonly note?: string;
}

const SEARCH_LEVELS = [
  'ORG_ADMIN',
  'CERT_ADMIN',
  'REPORT_ADMIN',
  'SOURCE_ADMIN',
  'SOURCE_SUBADMIN',
  'ROLE_ADMIN',
  'ROLE_SUBADMIN',
] as const;
const REASSIGNMENT_READ = ['idn:reassignment-configuration:read', 'idn:reassignment-configuration:manage'];
const REASSIGNMENT_MANAGE = ['idn:reassignment-configuration:manage'];

/** Keyed by the `operation` name our API functions send (api/*.ts). */
export const OPERATION_RIGHTS = {
  listPersonalAccessTokens: {
    request: 'GET /beta/personal-access-tokens',
    scopes: ['sp:all-personal-access-tokens:read', 'sp:all-personal-access-tokens:manage'],
    userContext: true,
    note:
      "the sweep lists every owner's tokens (no owner-id), which the description reserves to the " +
      "all-personal-access-tokens right; the my-… scopes the spec also lists only reach the caller's own. " +
      'Managed tokens are listed only with idn:managed-personal-access-tokens:read (STALE_TOKEN_INCLUDE_MANAGED).',
  },
  deletePersonalAccessToken: {
    request: 'DELETE /beta/personal-access-tokens/{id}',
    scopes: ['sp:all-personal-access-tokens:manage'],
    userContext: true,
    note: "revoking someone else's token: sp:my-personal-access-tokens:manage only reaches the caller's own",
  },
  createAccessRequest: {
    request: 'POST /beta/access-requests',
    scopes: ['idn:access-request:manage', 'idn:access-request-self:manage'],
    userLevels: ['ORG_ADMIN', 'USER'],
    userContext: true,
    note:
      'idn:access-request:manage is for ORG_ADMIN; idn:access-request-self:manage (USER) requests for others ' +
      "only as the tenant's access request configuration and segments allow; REVOKE_ACCESS for anyone needs ORG_ADMIN",
  },
  listAccessRequestStatus: {
    request: 'GET /v3/access-request-status',
    scopes: ['idn:access-request-status:read'],
    userLevels: ['ORG_ADMIN'],
    userContext: true,
  },
  getSearchDocument: {
    request: 'GET /v3/search/{index}/{id}',
    scopes: ['sp:search:read'],
    userLevels: SEARCH_LEVELS,
    userContext: false,
  },
  searchIdentityAccess: {
    request: 'POST /v3/search',
    scopes: ['sp:search:read'],
    userLevels: SEARCH_LEVELS,
    userContext: false,
  },
  searchIdentityContacts: {
    request: 'POST /v3/search',
    scopes: ['sp:search:read'],
    userLevels: SEARCH_LEVELS,
    userContext: false,
    note: "the sweep's owner names: optional, so not in its preflight (without it, owners stay unnamed)",
  },
  listReassignmentConfigurations: {
    request: 'GET /beta/reassignment-configurations',
    scopes: REASSIGNMENT_READ,
    userLevels: ['ORG_ADMIN'],
    userContext: true,
  },
  getReassignmentConfiguration: {
    request: 'GET /beta/reassignment-configurations/{identityId}',
    scopes: REASSIGNMENT_READ,
    userContext: true,
  },
  createReassignmentConfiguration: {
    request: 'POST /beta/reassignment-configurations',
    scopes: REASSIGNMENT_MANAGE,
    userLevels: ['ORG_ADMIN'],
    userContext: true,
  },
  putReassignmentConfig: {
    request: 'PUT /beta/reassignment-configurations/{identityId}',
    scopes: REASSIGNMENT_MANAGE,
    userContext: true,
  },
  deleteReassignmentConfiguration: {
    request: 'DELETE /beta/reassignment-configurations/{identityId}/{configType}',
    scopes: REASSIGNMENT_MANAGE,
    userContext: true,
  },
  getReassignmentConfigTypes: {
    request: 'GET /beta/reassignment-configurations/types',
    scopes: REASSIGNMENT_READ,
    userContext: true,
  },
  getEvaluateReassignmentConfiguration: {
    request: 'GET /beta/reassignment-configurations/{identityId}/evaluate/{configType}',
    scopes: REASSIGNMENT_MANAGE,
    userContext: true,
  },
  listTriggerSubscriptions: {
    request: 'GET /beta/trigger-subscriptions',
    scopes: ['sp:trigger-service-subscriptions:read', 'sp:trigger-service-subscriptions:manage'],
    userLevels: ['ORG_ADMIN'],
    userContext: false,
    note: 'used by `iga triggers subscribe`, not by a function',
  },
  createTriggerSubscription: {
    request: 'POST /beta/trigger-subscriptions',
    scopes: ['sp:trigger-service-subscriptions:manage'],
    userLevels: ['ORG_ADMIN'],
    userContext: false,
    note: 'used by `iga triggers subscribe`, not by a function',
  },
} as const satisfies Record<string, OperationRights>;

export type SailPointOperation = keyof typeof OPERATION_RIGHTS;

/** Whether `operation` is one of ours (an error's `operation` names it). */
export function isSailPointOperation(operation: string): operation is SailPointOperation {
  return Object.hasOwn(OPERATION_RIGHTS, operation);
}

/**
 * What a credential needs for `operation`, in words: for the reason of a 403, which says the
 * credential lacks one of these (e.g. "a personal access token (user context), not an API client;
 * scope idn:access-request:manage or idn:access-request-self:manage; user level ORG_ADMIN or USER").
 */
export function rightsNeededFor(operation: SailPointOperation): string {
  const needs: OperationRights = OPERATION_RIGHTS[operation];
  return [
    ...(needs.userContext ? ['a personal access token (user context), not an API client'] : []),
    `scope ${needs.scopes.join(' or ')}`,
    ...(needs.userLevels ? [`user level ${needs.userLevels.join(' or ')}`] : []),
    ...(needs.note ? [`note: ${needs.note}`] : []),
  ].join('; ');
}

/** What a workflow's credential must be able to do. */
export interface RightsRequirement {
  /** The workflow, for messages (e.g. 'absence-reassignment'). */
  readonly workflow: string;
  readonly operations: readonly SailPointOperation[];
}

/** The operations each SailPoint workflow calls (docs/deployment.md lists the rights they add up to). */
export const WORKFLOW_OPERATIONS = {
  staleTokenSweep: (revoke: boolean): RightsRequirement => ({
    workflow: 'stale-token-sweep',
    operations: revoke
      ? ['listPersonalAccessTokens', 'deletePersonalAccessToken']
      : ['listPersonalAccessTokens'],
  }),
  accessProvisioning: (): RightsRequirement => ({
    workflow: 'access-provisioning',
    operations: [
      'createAccessRequest',
      'listAccessRequestStatus',
      'getSearchDocument',
      'searchIdentityAccess',
    ],
  }),
  absenceReassignment: (): RightsRequirement => ({
    workflow: 'absence-reassignment',
    operations: [
      'getReassignmentConfiguration',
      'createReassignmentConfiguration',
      'putReassignmentConfig',
      'deleteReassignmentConfiguration',
      'getEvaluateReassignmentConfiguration',
      'getSearchDocument',
    ],
  }),
} as const;

/** One thing the credential lacks, and the operations that need it. */
export interface MissingRight {
  readonly what: string;
  readonly operations: readonly SailPointOperation[];
}

/** Scopes that grant whatever the user level holds. */
const BROAD_SCOPES = new Set(['sp:scopes:all', 'sp:scopes:default']);

/** What `token` visibly lacks for `operations`, grouped by the missing right. */
export function missingRights(
  token: Pick<TokenInfo, 'identityId' | 'authorities' | 'scopes'>,
  operations: readonly SailPointOperation[],
): MissingRight[] {
  const missing = new Map<string, SailPointOperation[]>();
  const lack = (what: string, operation: SailPointOperation) =>
    missing.set(what, [...(missing.get(what) ?? []), operation]);
  const scopes = token.scopes?.some((s) => BROAD_SCOPES.has(s)) ? undefined : token.scopes;
  for (const operation of operations) {
    const needs: OperationRights = OPERATION_RIGHTS[operation];
    if (needs.userContext && !token.identityId) {
      lack('a user context: a personal access token (PAT), not an API client', operation);
      continue;
    }
    if (scopes && !needs.scopes.some((s) => scopes.includes(s))) {
      lack(`scope ${needs.scopes.join(' or ')}`, operation);
    }
    // A user level is judged only for a PAT whose token names its authorities; a right listed
    // directly among them (a custom level) counts too.
    const levels = needs.userLevels;
    if (
      levels &&
      token.identityId &&
      token.authorities.length > 0 &&
      !levels.includes('USER') &&
      !levels.some((l) => token.authorities.includes(l)) &&
      !needs.scopes.some((s) => token.authorities.includes(s))
    ) {
      lack(
        `user level ${levels.join(' or ')} (the credential's identity has ${token.authorities.join(', ')})`,
        operation,
      );
    }
  }
  return [...missing].map(([what, ops]) => ({ what, operations: ops }));
}

/** The credential cannot do what its workflow needs: fix the PAT (or its user level), then work flows. */
export class SailPointRightsError extends SailPointAuthError {
  constructor(
    readonly workflow: string,
    readonly clientId: string | undefined,
    readonly missing: readonly MissingRight[],
  ) {
    super({
      operation: 'preflight',
      detail:
        `the SailPoint credential${clientId ? ` ${clientId}` : ''} lacks what ${workflow} needs: ` +
        missing.map((m) => `${m.what} (for ${m.operations.join(', ')})`).join('; ') +
        '. Give the PAT these scopes and its identity that user level (docs/deployment.md, "SailPoint rights")',
    });
  }
}

/**
 * A SailPoint transport that runs the workflow's preflight before it lets anything through: the first
 * `send` or `tokenInfo` of each token checks every right `requirement` needs and throws
 * SailPointRightsError naming what is missing (a refused credential is checked again on the next
 * call, so a fixed or rotated one is picked up). A passing check is kept for that token.
 */
export function withRightsPreflight(
  client: SailPointCaller,
  requirement: RightsRequirement,
): SailPointCaller {
  let passedFor: string | undefined;
  const checked = async (): Promise<TokenInfo> => {
    const token = await client.tokenInfo();
    const key = `${token.clientId ?? ''}|${token.expiresAt}`;
    if (passedFor === key) return token;
    const missing = missingRights(token, requirement.operations);
    if (missing.length > 0) throw new SailPointRightsError(requirement.workflow, token.clientId, missing);
    passedFor = key;
    return token;
  };
  return {
    tokenInfo: checked,
    async send(request) {
      await checked();
      return client.send(request);
    },
    // Reserving send times calls nothing in SailPoint: no right to check.
    ...(client.reserveCalls
      ? { reserveCalls: (path: string, count: number) => client.reserveCalls!(path, count) }
      : {}),
    ...(client.withDeadline
      ? {
          withDeadline: (deadline: number) =>
            withRightsPreflight(client.withDeadline!(deadline), requirement),
        }
      : {}),
  };
}
