/**
 * GET /v2.0/users/me/acl — the rights and roles of the user the API key belongs to.
 *
 * Cognigy adds rights (resources) and roles over time, so the schema accepts any resource name and
 * any role string: an unknown right is reported like any other, never a parse failure. A right is
 * held only when its operation flag is exactly `true`. A body with neither `organisationWide` nor
 * `projectWide` is refused (CognigyResponseError): it says nothing about what the key holds.
 */
import * as z from 'zod';
import type { CognigyApi } from '../client';

/** 'resource.operation', e.g. 'users.delete' — the notation the rights manifest uses too. */
export type RightName = string;

export interface AclScope {
  /** Rights held, as 'resource.operation' (only flags that are exactly true). */
  readonly rights: ReadonlySet<RightName>;
  readonly roles: ReadonlySet<string>;
}

export interface CognigyAcl {
  readonly organisationWide: AclScope;
  /** Keyed by project id. */
  readonly projectWide: ReadonlyMap<string, AclScope>;
  /** Trace id of the response, when Cognigy sent one (errors always carry one; successes may not). */
  readonly traceId?: string;
}

// resource → operation → flag. Operations are not limited to CRUD: a new one is simply another key.
const RightsSchema = z.record(z.string(), z.record(z.string(), z.unknown()));
const RolesSchema = z.array(z.string());

const ScopeSchema = z
  .object({ rights: RightsSchema.default({}), roles: RolesSchema.default([]) })
  .transform((scope): AclScope => ({
    rights: new Set(
      Object.entries(scope.rights).flatMap(([resource, operations]) =>
        Object.entries(operations)
          .filter(([, granted]) => granted === true)
          .map(([operation]) => `${resource}.${operation}`),
      ),
    ),
    roles: new Set(scope.roles),
  }));

// A body with neither field is not an ACL (an error page, a proxy's `{}`): read as "holds nothing" it
// would resolve over-privileged findings, so it is refused as a response-shape error (with the traceId).
export const AclResponseSchema = z
  .object({
    organisationWide: ScopeSchema.optional(),
    projectWide: z.record(z.string(), ScopeSchema).optional(),
  })
  .refine((body) => body.organisationWide !== undefined || body.projectWide !== undefined, {
    error: 'the ACL response has neither organisationWide nor projectWide',
  })
  .transform((body) => ({
    // One scope missing means nothing held there; both missing was refused above.
    organisationWide: body.organisationWide ?? { rights: new Set<RightName>(), roles: new Set<string>() },
    projectWide: new Map(Object.entries(body.projectWide ?? {})),
  }));

export async function getCurrentUserAcl(client: CognigyApi): Promise<CognigyAcl> {
  const { data, traceId } = await client.get({
    operation: 'getCurrentUserAcl',
    path: '/v2.0/users/me/acl',
    responseSchema: AclResponseSchema,
  });
  return { ...data, traceId };
}
