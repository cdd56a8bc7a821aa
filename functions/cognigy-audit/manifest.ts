/**
 * The rights manifest: what the automation's Cognigy credential needs, declared as configuration
 * (COGNIGY_RIGHTS_MANIFEST). Rights are written 'resource.operation' (e.g. 'projects.read').
 *
 * Per scope (organisation-wide, and each project by id):
 * - `rights` / `roles`: needed. One not held stops the Cognigy-dependent work (preflight fails).
 * - `optionalRights` / `optionalRoles`: accepted but not needed. Cognigy grants rights through
 *   roles, so a needed role may bring rights the automation never uses; listing them here accepts
 *   them knowingly instead of raising an over-privilege finding that nobody can fix.
 * Anything held beyond needed + optional is an over-privileged credential.
 *
 * Unknown keys are rejected (a typo such as "organizationWide" must not silently grant nothing).
 */
import * as z from 'zod';

const RIGHT_PATTERN = /^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$/;

const RightName = z.string().regex(RIGHT_PATTERN, {
  error: (issue) => `"${String(issue.input)}" is not a right: write resource.operation, e.g. "projects.read"`,
});
const RoleName = z.string().min(1, { error: 'a role name cannot be empty' });

const ScopeManifestSchema = z
  .object({
    rights: z.array(RightName).default([]),
    roles: z.array(RoleName).default([]),
    optionalRights: z.array(RightName).default([]),
    optionalRoles: z.array(RoleName).default([]),
  })
  .strict();

export const RightsManifestSchema = z
  .object({
    organisationWide: ScopeManifestSchema.default({
      rights: [],
      roles: [],
      optionalRights: [],
      optionalRoles: [],
    }),
    /** Keyed by project id. A project the credential can reach but that is not listed is over-privilege. */
    projectWide: z.record(z.string().min(1), ScopeManifestSchema).default({}),
  })
  .strict();

export type ScopeManifest = z.infer<typeof ScopeManifestSchema>;
export type RightsManifest = z.infer<typeof RightsManifestSchema>;

/**
 * Default: what this audit itself needs — reading its own API keys (right `apiKeys.read`, which
 * Cognigy grants through the global `apiKeys` role; reading its own ACL needs nothing). Nothing is
 * optional by default: `apiKeys.delete` and the like are findings unless a deployment accepts them.
 * Deployments whose Cognigy work needs more declare it in COGNIGY_RIGHTS_MANIFEST.
 */
export const DEFAULT_RIGHTS_MANIFEST: z.input<typeof RightsManifestSchema> = {
  organisationWide: { rights: ['apiKeys.read'], roles: ['apiKeys'] },
  projectWide: {},
};
