import { AclResponseSchema, type CognigyAcl } from '../../../functions/shared/cognigy';
import {
  assertNothingMissing,
  CognigyPreflightError,
  compareWithManifest,
} from '../../../functions/cognigy-audit/least-privilege';
import { RightsManifestSchema, type RightsManifest } from '../../../functions/cognigy-audit/manifest';

const PROJECT = '64a1f0c2e4b0a1b2c3d4e5f6';

/** Builds an ACL the way the client does: from a raw response body through the zod schema. */
function acl(raw: unknown, traceId = 'api--trace-1'): CognigyAcl {
  return { ...AclResponseSchema.parse(raw), traceId };
}

const crud = (read: boolean, others = false) => ({ create: others, read, update: others, delete: others });

const manifest = (input: unknown): RightsManifest => RightsManifestSchema.parse(input);

const leastPrivilegeAcl = () =>
  acl({
    organisationWide: { rights: { apiKeys: crud(true), users: crud(false) }, roles: ['apiKeys'] },
    projectWide: {},
  });

describe('compareWithManifest', () => {
  const needed = manifest({ organisationWide: { rights: ['apiKeys.read'], roles: ['apiKeys'] } });

  it('finds nothing when the ACL matches the manifest exactly (false flags are not rights)', () => {
    const report = compareWithManifest(leastPrivilegeAcl(), needed);
    expect(report.missing).toEqual([]);
    expect(report.overPrivileged).toEqual([]);
    expect(() => assertNothingMissing(report)).not.toThrow();
  });

  it('names a missing right and the traceId in the preflight error', () => {
    const report = compareWithManifest(
      acl({ organisationWide: { rights: { apiKeys: crud(false) }, roles: ['apiKeys'] } }, 'api--abc'),
      needed,
    );
    expect(() => assertNothingMissing(report)).toThrow(CognigyPreflightError);
    try {
      assertNothingMissing(report);
    } catch (error) {
      expect((error as CognigyPreflightError).missing).toEqual(['organisation-wide right apiKeys.read']);
      expect((error as Error).message).toContain('apiKeys.read');
      expect((error as Error).message).toContain('traceId api--abc');
    }
  });

  it('treats a missing role as missing too', () => {
    const report = compareWithManifest(
      acl({ organisationWide: { rights: { apiKeys: crud(true) }, roles: [] } }),
      needed,
    );
    expect(report.missing[0]?.missingRoles).toEqual(['apiKeys']);
  });

  it('reports the admin role and every extra right as over-privilege', () => {
    const report = compareWithManifest(
      acl({
        organisationWide: {
          rights: { apiKeys: crud(true, true), users: { ...crud(false), delete: true } },
          roles: ['admin', 'apiKeys'],
        },
      }),
      needed,
    );
    expect(report.missing).toEqual([]);
    expect(report.overPrivileged).toHaveLength(1);
    expect(report.overPrivileged[0]).toMatchObject({
      scope: { kind: 'organisation' },
      extraRoles: ['admin'],
      extraRights: ['apiKeys.create', 'apiKeys.delete', 'apiKeys.update', 'users.delete'],
    });
  });

  it('accepts optional rights and roles without requiring them', () => {
    const withOptional = manifest({
      organisationWide: {
        rights: ['apiKeys.read'],
        roles: ['apiKeys'],
        optionalRights: ['apiKeys.delete'],
        optionalRoles: ['odata'],
      },
    });
    const report = compareWithManifest(
      acl({ organisationWide: { rights: { apiKeys: { read: true, delete: true } }, roles: ['apiKeys'] } }),
      withOptional,
    );
    expect(report.overPrivileged).toEqual([]);
    expect(report.missing).toEqual([]);
  });

  it('reports an extra right in a declared project', () => {
    const m = manifest({
      organisationWide: { rights: ['apiKeys.read'], roles: ['apiKeys'] },
      projectWide: { [PROJECT]: { rights: ['flows.read'], roles: ['basic'] } },
    });
    const report = compareWithManifest(
      acl({
        organisationWide: { rights: { apiKeys: crud(true) }, roles: ['apiKeys'] },
        projectWide: {
          [PROJECT]: {
            rights: { flows: { read: true, update: true } },
            roles: ['basic'],
            allowedLocales: [],
          },
        },
      }),
      m,
    );
    expect(report.overPrivileged).toHaveLength(1);
    expect(report.overPrivileged[0]).toMatchObject({
      scope: { kind: 'project', projectId: PROJECT },
      extraRights: ['flows.update'],
      extraRoles: [],
      undeclaredProject: false,
    });
  });

  it('treats every right in a project the manifest does not list as extra', () => {
    const report = compareWithManifest(
      acl({
        organisationWide: { rights: { apiKeys: crud(true) }, roles: ['apiKeys'] },
        projectWide: { other: { rights: { flows: crud(true) }, roles: ['developer'] } },
      }),
      needed,
    );
    expect(report.overPrivileged[0]).toMatchObject({
      scope: { kind: 'project', projectId: 'other' },
      extraRights: ['flows.read'],
      extraRoles: ['developer'],
      undeclaredProject: true,
    });
  });

  it('treats a declared project the credential cannot reach as missing', () => {
    const m = manifest({
      organisationWide: { rights: ['apiKeys.read'], roles: ['apiKeys'] },
      projectWide: { [PROJECT]: { rights: ['flows.read'] } },
    });
    const report = compareWithManifest(leastPrivilegeAcl(), m);
    expect(() => assertNothingMissing(report)).toThrow(`project ${PROJECT} right flows.read`);
  });

  it('tolerates unknown new rights, operations, roles and fields: reported like any other', () => {
    const report = compareWithManifest(
      acl({
        organisationWide: {
          rights: {
            apiKeys: crud(true),
            aiAgents: { read: true, execute: true, create: false },
            newFlag: {},
          },
          roles: ['apiKeys', 'brandNewRole'],
          somethingNew: { nested: true },
        },
        projectWide: {},
        futureTopLevel: 42,
      }),
      needed,
    );
    expect(report.overPrivileged[0]).toMatchObject({
      extraRights: ['aiAgents.execute', 'aiAgents.read'],
      extraRoles: ['brandNewRole'],
    });
    expect(report.missing).toEqual([]);
  });

  it('only counts flags that are exactly true', () => {
    const parsed = acl({
      organisationWide: { rights: { users: { read: 'true', delete: 1, update: null } }, roles: [] },
    });
    expect([...parsed.organisationWide.rights]).toEqual([]);
  });

  it('refuses a response with neither organisationWide nor projectWide, rather than reading it as holding nothing', () => {
    expect(() => acl({})).toThrow('the ACL response has neither organisationWide nor projectWide');
    const parsed = acl({ projectWide: {} });
    expect(parsed.organisationWide.rights.size).toBe(0);
    expect(parsed.projectWide.size).toBe(0);
  });
});

describe('RightsManifestSchema', () => {
  it('rejects a misspelt scope rather than silently granting nothing', () => {
    expect(RightsManifestSchema.safeParse({ organizationWide: { rights: ['apiKeys.read'] } }).success).toBe(
      false,
    );
  });

  it('rejects a right not written resource.operation, naming it', () => {
    const result = RightsManifestSchema.safeParse({ organisationWide: { rights: ['apiKeys'] } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('"apiKeys" is not a right');
  });
});
