/**
 * The sandbox tenant's seed: what a fresh sandbox holds. Times are relative (`…DaysAgo`) and
 * resolved against the sandbox clock at start, so the demo data keeps its meaning in any year.
 *
 * The zod schema is the contract for fixtures: it checks shapes and cross-references (managers
 * exist and form a tree, token owners exist, a token is not used before it was created …).
 */
import * as z from 'zod';
import defaultTenant from './fixtures/default-tenant.json';

const Id = z.string().min(1);
const DaysAgo = z.number().nonnegative();

export const ACCESS_ITEM_TYPES = ['ACCESS_PROFILE', 'ROLE', 'ENTITLEMENT'] as const;
export type AccessItemType = (typeof ACCESS_ITEM_TYPES)[number];

export const OAuthClientSchema = z.object({
  clientId: Id,
  clientSecret: z.string().min(1),
  /** Set: a PAT-like client with user context (tokens carry identity_id). Absent: a pure API client. */
  identityId: Id.optional(),
  /** Token `authorities`; also where the sandbox looks for rights such as idn:managed-personal-access-tokens:read. */
  authorities: z.array(z.string()).optional(),
  /** Token `scope`; default "sp:scopes:all". */
  scope: z.string().optional(),
});

export const SeedSourceSchema = z.object({ id: Id, name: z.string().min(1) });

export const SeedAccessItemSchema = z.object({
  id: Id,
  type: z.enum(ACCESS_ITEM_TYPES),
  name: z.string().min(1),
  displayName: z.string().optional(),
  description: z.string().nullable().default(null),
  sourceId: Id.optional(),
  privileged: z.boolean().default(false),
  requestable: z.boolean().default(true),
  /** Entitlements only: the account attribute and value granting it. */
  attribute: z.string().optional(),
  value: z.string().optional(),
});

export const SeedIdentitySchema = z.object({
  id: Id,
  name: z.string().min(1),
  firstName: z.string(),
  lastName: z.string(),
  displayName: z.string().min(1),
  email: z.email().nullable(),
  managerId: Id.nullable().default(null),
  employeeNumber: z.string().optional(),
  inactive: z.boolean().default(false),
  status: z.string().optional(),
  createdDaysAgo: DaysAgo.default(730),
  attributes: z.record(z.string(), z.unknown()).default({}),
  /** Ids of access items (see `accessItems`) the identity holds. */
  access: z.array(Id).default([]),
});

export const SeedPersonalAccessTokenSchema = z.object({
  id: Id,
  name: z.string().min(1),
  scope: z.array(z.string()).nullable(),
  ownerId: Id,
  createdDaysAgo: DaysAgo,
  /** null: never used. */
  lastUsedDaysAgo: DaysAgo.nullable(),
  managed: z.boolean().default(false),
});

export const SeedTenantSchema = z.object({
  name: z.string().min(1),
  tenantId: z.string().min(1),
  pod: z.string().min(1),
  org: z.string().min(1),
});

function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(values.filter((v) => seen.size === seen.add(v).size))];
}

export const SandboxSeedSchema = z
  .object({
    tenant: SeedTenantSchema,
    sources: z.array(SeedSourceSchema).default([]),
    accessItems: z.array(SeedAccessItemSchema).default([]),
    identities: z.array(SeedIdentitySchema),
    personalAccessTokens: z.array(SeedPersonalAccessTokenSchema).default([]),
    clients: z.array(OAuthClientSchema).default([]),
  })
  .superRefine((seed, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const unique = (name: string, values: string[]) => {
      for (const dup of duplicates(values)) issue([name], `duplicate id ${dup}`);
    };
    unique(
      'sources',
      seed.sources.map((s) => s.id),
    );
    unique(
      'accessItems',
      seed.accessItems.map((a) => a.id),
    );
    unique(
      'identities',
      seed.identities.map((i) => i.id),
    );
    unique(
      'personalAccessTokens',
      seed.personalAccessTokens.map((p) => p.id),
    );
    unique(
      'clients',
      seed.clients.map((c) => c.clientId),
    );

    const sources = new Set(seed.sources.map((s) => s.id));
    const items = new Set(seed.accessItems.map((a) => a.id));
    const identities = new Map(seed.identities.map((i) => [i.id, i]));

    seed.accessItems.forEach((item, n) => {
      if (item.sourceId !== undefined && !sources.has(item.sourceId)) {
        issue(['accessItems', n, 'sourceId'], `unknown source ${item.sourceId}`);
      }
    });
    seed.identities.forEach((identity, n) => {
      if (identity.managerId !== null && !identities.has(identity.managerId)) {
        issue(['identities', n, 'managerId'], `unknown manager ${identity.managerId}`);
      }
      identity.access.forEach((id, k) => {
        if (!items.has(id)) issue(['identities', n, 'access', k], `unknown access item ${id}`);
      });
      // Managers form a tree: walking up from anyone ends at a top manager without revisiting.
      const visited = new Set<string>([identity.id]);
      for (let up = identity.managerId; up !== null; up = identities.get(up)?.managerId ?? null) {
        if (visited.has(up)) {
          issue(['identities', n, 'managerId'], `manager cycle through ${up}`);
          break;
        }
        visited.add(up);
      }
    });
    const patNames = new Set<string>();
    seed.personalAccessTokens.forEach((pat, n) => {
      if (!identities.has(pat.ownerId))
        issue(['personalAccessTokens', n, 'ownerId'], `unknown owner ${pat.ownerId}`);
      if (pat.lastUsedDaysAgo !== null && pat.lastUsedDaysAgo > pat.createdDaysAgo) {
        issue(['personalAccessTokens', n, 'lastUsedDaysAgo'], 'last used before it was created');
      }
      // The API: a name "cannot be the same as other personal access tokens owned by a user".
      const key = `${pat.ownerId}\u0000${pat.name}`;
      if (patNames.has(key))
        issue(['personalAccessTokens', n, 'name'], `duplicate name for owner ${pat.ownerId}`);
      patNames.add(key);
    });
    seed.clients.forEach((client, n) => {
      if (client.identityId !== undefined && !identities.has(client.identityId)) {
        issue(['clients', n, 'identityId'], `unknown identity ${client.identityId}`);
      }
    });
  });

/** A seed as written (defaults may be omitted). */
export type SandboxSeed = z.input<typeof SandboxSeedSchema>;
/** A validated seed with defaults filled in. */
export type ParsedSeed = z.output<typeof SandboxSeedSchema>;
export type OAuthClient = z.output<typeof OAuthClientSchema>;
export type SeedIdentity = ParsedSeed['identities'][number];
export type SeedPersonalAccessToken = ParsedSeed['personalAccessTokens'][number];
export type SeedAccessItem = ParsedSeed['accessItems'][number];

/** Validates a seed; throws a ZodError listing every problem. */
export function parseSeed(seed: unknown): ParsedSeed {
  return SandboxSeedSchema.parse(seed);
}

/** A fresh, validated copy of sandbox/fixtures/default-tenant.json. */
export function loadDefaultSeed(): ParsedSeed {
  return parseSeed(structuredClone(defaultTenant));
}

/**
 * Ids in the default seed that tests and demos refer to by role
 * (the full picture is in sandbox/README.md).
 */
export const DEFAULT_SEED_IDS = {
  identities: {
    /** amelia.hart: top of the manager tree, manages 02, 03, 15, 20. */
    ceo: '2c9180aa000000000000000000000001',
    /** ben.okafor: manager of managers (04, 05). */
    vpEngineering: '2c9180aa000000000000000000000002',
    /** dev.patel: manages 06, 07, 08, 16. */
    engineeringManager: '2c9180aa000000000000000000000004',
    /** nina.ivanova: the identity behind sandbox-pat-client (ORG_ADMIN), reports to 05. */
    iamAdmin: '2c9180aa000000000000000000000014',
    /** paula.costa: inactive contractor (a leaver) who still owns tokens. */
    inactiveContractor: '2c9180aa000000000000000000000016',
    /** quinn.walsh: deepest chain, 17 -> 09 -> 05 -> 02 -> 01. */
    intern: '2c9180aa000000000000000000000017',
    /** svc.integration: no manager and no email. */
    serviceAccount: '2c9180aa000000000000000000000018',
  },
  personalAccessTokens: {
    /** Used today by the IAM admin. */
    usedToday: '7a700000000000000000000000000001',
    /** Managed (Workflows) token, used yesterday. */
    managedRecent: '7a700000000000000000000000000020',
    /** Managed token unused for 180 days. */
    managedStale: '7a700000000000000000000000000021',
    /** Never used, created 5 days ago. */
    neverUsedNew: '7a700000000000000000000000000013',
    /** Never used, created 400 days ago. */
    neverUsedOld: '7a700000000000000000000000000045',
    /** Last used exactly 75 and 90 days before the sandbox started. */
    lastUsed75Days: '7a700000000000000000000000000008',
    lastUsed90Days: '7a700000000000000000000000000011',
  },
  clients: {
    pat: { clientId: 'sandbox-pat-client', clientSecret: 'sandbox-pat-secret' },
    api: { clientId: 'sandbox-api-client', clientSecret: 'sandbox-api-secret' },
  },
} as const;
