/**
 * Least-privilege comparison of the credential's ACL with the rights manifest. Pure: plain objects in,
 * plain verdicts out.
 *
 * Per scope (organisation-wide, then every project either side mentions):
 * - missing: a needed right or role not held → the preflight fails (see assertNothingMissing);
 * - extra: a right or role held that is neither needed nor optional → over-privileged.
 * A project the credential can reach but the manifest does not list is entirely extra; a project the
 * manifest lists but the credential cannot reach is entirely missing.
 */
import { CredentialRefusedError } from '../shared/failure-policy';
import type { AclScope, CognigyAcl } from '../shared/cognigy';
import type { RightsManifest, ScopeManifest } from './manifest';

export type PrivilegeScope = { kind: 'organisation' } | { kind: 'project'; projectId: string };

export interface ScopeVerdict {
  readonly scope: PrivilegeScope;
  readonly missingRights: readonly string[];
  readonly missingRoles: readonly string[];
  readonly extraRights: readonly string[];
  readonly extraRoles: readonly string[];
  /** The credential reaches this project but the manifest does not list it. */
  readonly undeclaredProject: boolean;
}

export interface PrivilegeReport {
  /** Every scope compared, organisation first, then projects by id. */
  readonly scopes: readonly ScopeVerdict[];
  /** Scopes with something missing. */
  readonly missing: readonly ScopeVerdict[];
  /** Scopes with something extra. */
  readonly overPrivileged: readonly ScopeVerdict[];
  readonly traceId?: string;
}

const EMPTY_SCOPE: AclScope = { rights: new Set(), roles: new Set() };
const EMPTY_MANIFEST: ScopeManifest = { rights: [], roles: [], optionalRights: [], optionalRoles: [] };

export function scopeLabel(scope: PrivilegeScope): string {
  return scope.kind === 'organisation' ? 'organisation-wide' : `project ${scope.projectId}`;
}

/** Stable, short identifier of a scope, used in finding keys. */
export function scopeId(scope: PrivilegeScope): string {
  return scope.kind === 'organisation' ? 'organisation' : `project:${scope.projectId}`;
}

function compareScope(
  scope: PrivilegeScope,
  held: AclScope,
  wanted: ScopeManifest,
  undeclared: boolean,
): ScopeVerdict {
  const allowedRights = new Set([...wanted.rights, ...wanted.optionalRights]);
  const allowedRoles = new Set([...wanted.roles, ...wanted.optionalRoles]);
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
  return {
    scope,
    missingRights: sorted(wanted.rights.filter((r) => !held.rights.has(r))),
    missingRoles: sorted(wanted.roles.filter((r) => !held.roles.has(r))),
    extraRights: sorted([...held.rights].filter((r) => !allowedRights.has(r))),
    extraRoles: sorted([...held.roles].filter((r) => !allowedRoles.has(r))),
    undeclaredProject: undeclared,
  };
}

export function compareWithManifest(acl: CognigyAcl, manifest: RightsManifest): PrivilegeReport {
  const scopes: ScopeVerdict[] = [
    compareScope({ kind: 'organisation' }, acl.organisationWide, manifest.organisationWide, false),
  ];
  const projectIds = [...new Set([...acl.projectWide.keys(), ...Object.keys(manifest.projectWide)])].sort();
  for (const projectId of projectIds) {
    const wanted = manifest.projectWide[projectId];
    const held = acl.projectWide.get(projectId) ?? EMPTY_SCOPE;
    scopes.push(
      compareScope({ kind: 'project', projectId }, held, wanted ?? EMPTY_MANIFEST, wanted === undefined),
    );
  }
  return {
    scopes,
    missing: scopes.filter((s) => s.missingRights.length + s.missingRoles.length > 0),
    overPrivileged: scopes.filter((s) => s.extraRights.length + s.extraRoles.length > 0),
    traceId: acl.traceId,
  };
}

/** One line per missing item, e.g. "organisation-wide right users.read", "project 5f… role developer". */
export function describeMissing(verdicts: readonly ScopeVerdict[]): string[] {
  return verdicts.flatMap((v) => [
    ...v.missingRights.map((r) => `${scopeLabel(v.scope)} right ${r}`),
    ...v.missingRoles.map((r) => `${scopeLabel(v.scope)} role ${r}`),
  ]);
}

/**
 * The preflight failed: the credential lacks something the manifest needs, so the Cognigy-dependent
 * work must not run. The message names every missing right/role and the traceId of the ACL response.
 * A credential refusal in the shared failure policy: the run fails.
 */
export class CognigyPreflightError extends CredentialRefusedError {
  override readonly name = 'CognigyPreflightError';
  constructor(
    readonly missing: readonly string[],
    readonly traceId: string | undefined,
  ) {
    super(
      `Cognigy preflight failed: the credential lacks ${missing.join(', ')} ` +
        `(traceId ${traceId ?? 'none'}); grant ${missing.length === 1 ? 'it' : 'them'} or correct COGNIGY_RIGHTS_MANIFEST`,
    );
  }
}

/** Throws CognigyPreflightError when anything needed is missing. */
export function assertNothingMissing(report: PrivilegeReport): void {
  const missing = describeMissing(report.missing);
  if (missing.length > 0) throw new CognigyPreflightError(missing, report.traceId);
}
