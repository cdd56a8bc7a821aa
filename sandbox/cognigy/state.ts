/**
 * The sandbox's Cognigy.AI users: their rights and roles (organisation-wide and per project) and
 * their API keys. Users are found by API key, like Cognigy's `X-API-Key` authentication.
 *
 * Tests and demos change users directly between requests (grant/revoke a right or role, add or
 * remove a key, add a user). Key ages are given in days before the state was created (the sandbox
 * clock at start), or as Unix seconds.
 */
import { createHash } from 'node:crypto';
import type { RateLimitSettings } from '../rate-limit';
import { PROJECT_RESOURCES, allRights } from './resources';

const DAY_SECONDS = 86_400;

export interface CognigyGrants {
  /** 'resource.operation', e.g. 'users.delete'. */
  readonly rights: Set<string>;
  readonly roles: Set<string>;
}

export interface SandboxCognigyApiKey {
  /** 24 characters, like Cognigy's object ids. */
  readonly id: string;
  name: string;
  /** The secret. Only the sandbox holds it; the v2.1 route shows a masked preview. */
  readonly key: string;
  /** Unix seconds. */
  createdAt: number;
}

export interface SandboxCognigyUser {
  readonly id: string;
  name: string;
  readonly organisationWide: CognigyGrants;
  /** By project id. */
  readonly projectWide: Map<string, CognigyGrants>;
  readonly apiKeys: SandboxCognigyApiKey[];
}

export interface CognigyUserSpec {
  id: string;
  name?: string;
  organisationWide?: { rights?: string[]; roles?: string[] };
  projectWide?: Record<string, { rights?: string[]; roles?: string[] }>;
  apiKeys?: CognigyApiKeySpec[];
}

export interface CognigyApiKeySpec {
  name: string;
  key: string;
  id?: string;
  /** Days before the sandbox started; or give createdAt. Default 0. */
  createdDaysAgo?: number;
  /** Unix seconds; wins over createdDaysAgo. */
  createdAt?: number;
}

/** Secrets of the default users' keys: the demo and tests authenticate with these. */
export const COGNIGY_SANDBOX_KEYS = Object.freeze({
  /** Key of the least-privilege user (matches the default rights manifest exactly). */
  leastPrivilege: 'c0g1lp7a9d2e4f6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8',
  /** The admin user's key in use by the automation (created 95 days ago). */
  admin: 'c0g1ad3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5c7b9a1f3e5d7c9b1a3',
  /** A second key of the admin user, not used by the automation (created 80 days ago). */
  adminSpare: 'c0g1sp0e2d4c6b8a0f2e4d6c8b0a2f4e6d8c0b2a4f6e8d0c2b4a6f8e0d2c4b6a8f0',
});

export const COGNIGY_SANDBOX_PROJECT_ID = '64a1f0c2e4b0a1b2c3d4e5f6';

/** The default users: a least-privilege automation user and an over-privileged admin one. */
export const DEFAULT_COGNIGY_USERS: readonly CognigyUserSpec[] = [
  {
    id: '64a1f0c2e4b0a1b2c3d40001',
    name: 'audit-bot (least privilege)',
    organisationWide: { rights: ['apiKeys.read'], roles: ['apiKeys'] },
    apiKeys: [{ name: 'iga-autopilot', key: COGNIGY_SANDBOX_KEYS.leastPrivilege, createdDaysAgo: 20 }],
  },
  {
    id: '64a1f0c2e4b0a1b2c3d40002',
    name: 'admin-bot (over-privileged)',
    organisationWide: {
      rights: allRights(['apiKeys', 'users', 'projects', 'auditEvents', 'flows']),
      roles: ['admin', 'apiKeys'],
    },
    projectWide: {
      [COGNIGY_SANDBOX_PROJECT_ID]: {
        rights: allRights(PROJECT_RESOURCES.slice(0, 6)),
        roles: ['projectAdmin'],
      },
    },
    apiKeys: [
      { name: 'iga-autopilot', key: COGNIGY_SANDBOX_KEYS.admin, createdDaysAgo: 95 },
      { name: 'old laptop script', key: COGNIGY_SANDBOX_KEYS.adminSpare, createdDaysAgo: 80 },
    ],
  },
];

/** Cognigy-style 24-character id derived from a seed string (stable across runs). */
export function cognigyId(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 24);
}

/** First 4 + mask + last 4 characters, as Cognigy previews keys. */
export function keyPreview(key: string): string {
  return `${key.slice(0, 4)}••••••••${key.slice(-4)}`;
}

function grants(spec: { rights?: string[]; roles?: string[] } | undefined): CognigyGrants {
  return { rights: new Set(spec?.rights ?? []), roles: new Set(spec?.roles ?? []) };
}

export class CognigySandboxState {
  readonly users = new Map<string, SandboxCognigyUser>();
  /** Per-user rate limit of the Cognigy API; default Cognigy's documented 1,000 per 5 minutes. */
  rateLimit: RateLimitSettings | false = { limit: 1000, windowMs: 5 * 60_000 };

  constructor(
    /** Unix seconds of the sandbox clock at start: `createdDaysAgo` counts back from it. */
    private readonly startedAtSeconds: number,
    users: readonly CognigyUserSpec[] = DEFAULT_COGNIGY_USERS,
  ) {
    for (const user of users) this.addUser(user);
  }

  addUser(spec: CognigyUserSpec): SandboxCognigyUser {
    if (this.users.has(spec.id)) throw new Error(`sandbox cognigy: user ${spec.id} exists`);
    const user: SandboxCognigyUser = {
      id: spec.id,
      name: spec.name ?? spec.id,
      organisationWide: grants(spec.organisationWide),
      projectWide: new Map(Object.entries(spec.projectWide ?? {}).map(([id, g]) => [id, grants(g)])),
      apiKeys: [],
    };
    this.users.set(user.id, user);
    for (const key of spec.apiKeys ?? []) this.addApiKey(user.id, key);
    return user;
  }

  user(userId: string): SandboxCognigyUser {
    const user = this.users.get(userId);
    if (!user) throw new Error(`sandbox cognigy: unknown user ${userId}`);
    return user;
  }

  /** The user an API key belongs to. */
  findByKey(key: string | undefined): { user: SandboxCognigyUser; apiKey: SandboxCognigyApiKey } | undefined {
    if (!key) return undefined;
    for (const user of this.users.values()) {
      const apiKey = user.apiKeys.find((k) => k.key === key);
      if (apiKey) return { user, apiKey };
    }
    return undefined;
  }

  addApiKey(userId: string, spec: CognigyApiKeySpec): SandboxCognigyApiKey {
    if (this.findByKey(spec.key)) throw new Error('sandbox cognigy: that key is already in use');
    const apiKey: SandboxCognigyApiKey = {
      id: spec.id ?? cognigyId(`apikey:${userId}:${spec.name}:${spec.key}`),
      name: spec.name,
      key: spec.key,
      createdAt:
        spec.createdAt ?? this.startedAtSeconds - Math.round((spec.createdDaysAgo ?? 0) * DAY_SECONDS),
    };
    this.user(userId).apiKeys.push(apiKey);
    return apiKey;
  }

  /** Revokes a key (by id or secret). */
  removeApiKey(userId: string, keyIdOrSecret: string): void {
    const keys = this.user(userId).apiKeys;
    const index = keys.findIndex((k) => k.id === keyIdOrSecret || k.key === keyIdOrSecret);
    if (index < 0) throw new Error(`sandbox cognigy: user ${userId} has no such key`);
    keys.splice(index, 1);
  }

  /** The grants of a scope: organisation-wide, or a project (created on first use). */
  scope(userId: string, projectId?: string): CognigyGrants {
    const user = this.user(userId);
    if (projectId === undefined) return user.organisationWide;
    let project = user.projectWide.get(projectId);
    if (!project) user.projectWide.set(projectId, (project = grants(undefined)));
    return project;
  }

  grant(userId: string, what: { rights?: string[]; roles?: string[]; projectId?: string }): void {
    const scope = this.scope(userId, what.projectId);
    for (const right of what.rights ?? []) scope.rights.add(right);
    for (const role of what.roles ?? []) scope.roles.add(role);
  }

  revoke(userId: string, what: { rights?: string[]; roles?: string[]; projectId?: string }): void {
    const scope = this.scope(userId, what.projectId);
    for (const right of what.rights ?? []) scope.rights.delete(right);
    for (const role of what.roles ?? []) scope.roles.delete(role);
  }

  /** Removes the user's access to a project altogether. */
  removeProject(userId: string, projectId: string): void {
    this.user(userId).projectWide.delete(projectId);
  }
}

export function createCognigyState(now: Date, users?: readonly CognigyUserSpec[]): CognigySandboxState {
  return new CognigySandboxState(Math.floor(now.getTime() / 1000), users);
}
