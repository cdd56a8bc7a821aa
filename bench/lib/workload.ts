/**
 * The benchmark's tenant and workload: `identities` bench identities (each holding two of 40 bench
 * items), and messages of which `duplicateRatio` are exact re-sends. Popular items are requested far
 * more often (Zipf-like), which is what makes coalescing pay. Deterministic for a seed.
 */
import { parseAccessRequestMessage } from '../../functions/access-provisioning/contract';
import { unitsOf, type Unit } from '../../functions/access-provisioning/units';
import { loadDefaultSeed, type SandboxSeed } from '../../sandbox/seed';
import { pick, prng, shuffle, type Random } from './random';

/** nina.ivanova: the identity behind sandbox-pat-client (ORG_ADMIN), manager of every bench identity. */
export const REQUESTER = '2c9180aa000000000000000000000014';
export const ITEM_TYPES = [
  ...Array<'ROLE'>(24).fill('ROLE'),
  ...Array<'ACCESS_PROFILE'>(8).fill('ACCESS_PROFILE'),
  ...Array<'ENTITLEMENT'>(8).fill('ENTITLEMENT'),
] as const;

export const benchIdentity = (n: number) => `be000000000000000000000000${String(n).padStart(6, '0')}`;
export const benchItem = (n: number) => `be17e000000000000000000000${String(n).padStart(6, '0')}`;

export interface Workload {
  readonly seed: SandboxSeed;
  /** Every message body, in send order (duplicates included). */
  readonly bodies: string[];
  /** The distinct messages. */
  readonly unique: string[];
  /** The units the distinct messages ask for: each should reach SailPoint exactly once. */
  readonly units: Unit[];
}

/** The default tenant plus the bench catalog and `identities` bench identities; `held` says who holds what. */
export function benchTenant(random: Random, identities: number, extraIdentities: readonly string[] = []) {
  const seed = loadDefaultSeed();
  ITEM_TYPES.forEach((type, n) =>
    seed.accessItems.push({
      id: benchItem(n),
      type,
      name: `Bench ${type.toLowerCase()} ${n}`,
      description: null,
      privileged: false,
      requestable: true,
      ...(type === 'ENTITLEMENT' ? { attribute: 'memberOf', value: `CN=Bench ${n}` } : {}),
    }),
  );
  const held = new Map<string, Set<number>>();
  const add = (id: string, access: Set<number>, n: number) => {
    held.set(id, access);
    seed.identities.push({
      id,
      name: `bench.${n}`,
      firstName: 'Bench',
      lastName: String(n),
      displayName: `Bench ${n}`,
      email: null,
      managerId: REQUESTER,
      inactive: false,
      createdDaysAgo: 30,
      attributes: {},
      access: [...access].map(benchItem),
    });
  };
  for (let n = 0; n < identities; n++) {
    add(
      benchIdentity(n),
      new Set([Math.floor(random() * ITEM_TYPES.length), Math.floor(random() * ITEM_TYPES.length)]),
      n,
    );
  }
  extraIdentities.forEach((id, n) => add(id, new Set(), identities + n));
  return { seed, held };
}

/** Popular items far more often (Zipf-like). */
export function popularItem(random: Random): number {
  return Math.min(ITEM_TYPES.length - 1, Math.floor(ITEM_TYPES.length * random() ** 2.5));
}

export function unitsOfBodies(bodies: readonly string[]): Unit[] {
  return bodies.flatMap((body) => {
    const parsed = parseAccessRequestMessage(body, Date.now());
    if (!parsed.ok) throw new Error(`bench generated an invalid message: ${parsed.reason}`);
    return unitsOf(parsed.message);
  });
}

export function buildWorkload(config: {
  messages: number;
  duplicateRatio: number;
  identities: number;
  seed: number;
}): Workload {
  const random = prng(config.seed);
  const { seed, held } = benchTenant(random, config.identities);
  const uniqueCount = Math.round(config.messages * (1 - config.duplicateRatio));
  const used = new Set<string>();
  const unique: string[] = [];
  while (unique.length < uniqueCount) {
    const identity = benchIdentity(Math.floor(random() * config.identities));
    const holds = held.get(identity)!;
    if (random() < 0.1) {
      const item = pick(random, [...holds]);
      const key = `${identity}|${item}`;
      if (used.has(key)) continue;
      used.add(key);
      unique.push(
        JSON.stringify({
          requestId: `BENCH-${unique.length}`,
          requestedFor: [identity],
          requestType: 'REVOKE_ACCESS',
          requestedItems: [{ type: ITEM_TYPES[item], id: benchItem(item), comment: 'bench revoke' }],
        }),
      );
      continue;
    }
    const size = random() < 0.7 ? 1 : random() < 0.6 ? 2 : 3;
    const items = new Set<number>();
    for (let tries = 0; items.size < size && tries < 20; tries++) {
      const item = popularItem(random);
      if (!holds.has(item) && !used.has(`${identity}|${item}`)) items.add(item);
    }
    if (items.size === 0) continue;
    for (const item of items) used.add(`${identity}|${item}`);
    unique.push(
      JSON.stringify({
        requestId: `BENCH-${unique.length}`,
        requestedFor: [identity],
        requestType: 'GRANT_ACCESS',
        requestedItems: [...items].map((item) => ({ type: ITEM_TYPES[item], id: benchItem(item) })),
      }),
    );
  }
  const bodies = [...unique];
  while (bodies.length < config.messages) bodies.push(pick(random, unique));
  shuffle(random, bodies);
  return { seed: seed as SandboxSeed, bodies, unique, units: unitsOfBodies(unique) };
}
