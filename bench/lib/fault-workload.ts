/**
 * The fault run's messages, in three phases sent one after the other (each drained first):
 *
 *  A. GRANTs (one or several identities, 1–3 items, each identity × item asked once), REVOKEs of
 *     access held since the seed, exact re-sends, re-sends with the JSON keys in another order,
 *     malformed messages and rule-breaking ones (these name only their own identities, so any unit
 *     of theirs SailPoint accepts is visible).
 *  B. REVOKEs of access granted in A (GRANT/REVOKE pairs; Search may not show the grant yet), with
 *     exact and reordered re-sends.
 *  C. The producer re-sends GRANT messages of A whose access B revoked — same body, same requestId:
 *     duplicates of a request already processed, never to be POSTed again.
 *
 * Every unit of a valid message should be accepted by SailPoint exactly once; none of an invalid one.
 */
import { benchIdentity, benchItem, benchTenant, ITEM_TYPES, popularItem, unitsOfBodies } from './workload';
import { pick, prng, shuffle, type Random } from './random';
import type { SandboxSeed } from '../../sandbox/seed';

export const invalidIdentity = (n: number) => `fa17000000000000000000000${String(n).padStart(7, '0')}`;
/** In the default seed: a role that is not requestable (SailPoint refuses a GRANT of it). */
const NOT_REQUESTABLE_ROLE = 'acce5500000000000000000000000001';
const INVALID_IDENTITIES = 40;

export type MessageKind = 'valid' | 'malformed' | 'rule-breaking';

export interface FaultWorkload {
  readonly seed: SandboxSeed;
  /** Phase A's bodies in send order. */
  readonly phaseA: string[];
  /** Built after phase A from what SailPoint accepted in it (see `phaseB`). */
  readonly kinds: Map<string, MessageKind>;
  /** Units every valid message of phase A asks for. */
  readonly expectedA: Set<string>;
  /** Single-identity, single-item GRANT messages of A: candidates for the pairs of phase B. */
  readonly pairCandidates: { body: string; identity: string; item: number }[];
  readonly invalidIdentities: ReadonlySet<string>;
  readonly counts: Record<string, number>;
  readonly random: Random;
}

/** The same JSON with every object's keys in reverse order. */
export function reorderKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reorderKeys(v)]),
  );
}

const reordered = (body: string) => JSON.stringify(reorderKeys(JSON.parse(body)));

export function buildFaultWorkload(config: {
  messages: number;
  identities: number;
  seed: number;
}): FaultWorkload {
  const random = prng(config.seed);
  const invalid = Array.from({ length: INVALID_IDENTITIES }, (_, n) => invalidIdentity(n));
  const { seed, held } = benchTenant(random, config.identities, invalid);
  const size = Math.floor(config.messages * 0.8);
  const kinds = new Map<string, MessageKind>();
  const counts: Record<string, number> = {};
  const count = (what: string, n = 1) => (counts[what] = (counts[what] ?? 0) + n);
  const used = new Set<string>();
  const validUnique: string[] = [];
  const pairCandidates: FaultWorkload['pairCandidates'] = [];
  const identity = () => benchIdentity(Math.floor(random() * config.identities));
  const free = (id: string, item: number) => !held.get(id)!.has(item) && !used.has(`${id}|${item}`);

  // Valid GRANTs: 55 % of phase A, a quarter of them for several identities.
  let n = 0;
  while (validUnique.length < Math.round(size * 0.55)) {
    const multi = random() < 0.25;
    const people = [...new Set(Array.from({ length: multi ? 2 + Math.floor(random() * 3) : 1 }, identity))];
    const items = new Set<number>();
    for (let tries = 0; items.size < 1 + Math.floor(random() * 3) && tries < 30; tries++) {
      const item = popularItem(random);
      if (people.every((p) => free(p, item))) items.add(item);
    }
    if (items.size === 0) continue;
    for (const p of people) for (const item of items) used.add(`${p}|${item}`);
    const body = JSON.stringify({
      requestId: `FAULT-A-${n++}`,
      requestedFor: people,
      requestType: 'GRANT_ACCESS',
      requestedItems: [...items].map((item) => ({ type: ITEM_TYPES[item], id: benchItem(item) })),
    });
    validUnique.push(body);
    kinds.set(body, 'valid');
    count(multi && people.length > 1 ? 'grant (several identities)' : 'grant');
    if (people.length === 1 && items.size === 1)
      pairCandidates.push({ body, identity: people[0]!, item: [...items][0]! });
  }
  // REVOKEs of access held since the seed: 5 %.
  for (let revokes = 0; revokes < Math.round(size * 0.05);) {
    const id = identity();
    const item = pick(random, [...held.get(id)!]);
    if (used.has(`${id}|${item}`)) continue;
    used.add(`${id}|${item}`);
    const body = JSON.stringify({
      requestId: `FAULT-A-${n++}`,
      requestedFor: [id],
      requestType: 'REVOKE_ACCESS',
      requestedItems: [{ type: ITEM_TYPES[item], id: benchItem(item), comment: 'fault run: leaver' }],
    });
    validUnique.push(body);
    kinds.set(body, 'valid');
    count('revoke of seeded access');
    revokes++;
  }
  const expectedA = new Set(unitsOfBodies(validUnique).map((u) => u.key));

  // Invalid messages: 3.5 % malformed, 3.5 % rule-breaking, each naming only invalid identities.
  const bad = () => pick(random, invalid);
  const item = (k: number) => ({ type: ITEM_TYPES[k], id: benchItem(k) });
  const entitlements = ITEM_TYPES.flatMap((t, k) => (t === 'ENTITLEMENT' ? [k] : []));
  const malformed: (() => string)[] = [
    () => `{"requestedFor": ["${bad()}"], "requestedItems": [`,
    () => JSON.stringify([{ requestedFor: [bad()] }]),
    () => JSON.stringify({ requestedFor: [bad()], requestType: 'GRANT_ACCESS' }),
    () => JSON.stringify({ requestedFor: [bad()], requestType: 'MODIFY_ACCESS', requestedItems: [item(0)] }),
    () => JSON.stringify({ requestedFor: [bad()], requestedItems: [{ type: 'GROUP', id: benchItem(1) }] }),
    () =>
      JSON.stringify({ requestedFor: [bad()], requestedItems: [item(2)], startDate: '2030-01-01T00:00:00Z' }),
    () => JSON.stringify({ requestedFor: [], requestedItems: [item(3)] }),
    () => JSON.stringify({ requestedFor: [`${bad()}/../x`], requestedItems: [item(4)] }),
  ];
  const ruleBreaking: (() => string)[] = [
    () => JSON.stringify({ requestedFor: [bad()], requestType: 'REVOKE_ACCESS', requestedItems: [item(5)] }),
    () =>
      JSON.stringify({
        requestedFor: [bad(), invalidIdentity(INVALID_IDENTITIES - 1)],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [{ ...item(6), comment: 'two identities' }],
      }),
    () => {
      const who = bad();
      return JSON.stringify({ requestedFor: [who, who], requestedItems: [item(7)] });
    },
    () =>
      JSON.stringify({
        requestedFor: [bad()],
        requestedItems: Array.from({ length: 26 }, (_, k) => ({
          type: 'ENTITLEMENT',
          id: benchItem(entitlements[k % entitlements.length]!) + (k >= entitlements.length ? `x${k}` : ''),
        })),
      }),
    () =>
      JSON.stringify({
        requestedFor: [bad()],
        requestedItems: [{ ...item(8), removeDate: '2020-01-01T00:00:00Z' }],
      }),
    () =>
      JSON.stringify({ requestedFor: [bad()], requestedItems: [{ type: 'ROLE', id: NOT_REQUESTABLE_ROLE }] }),
    () =>
      JSON.stringify({
        requestedFor: [bad()],
        requestedItems: [{ type: 'ROLE', id: 'acce55000000000000000000000000ff' }],
      }),
  ];
  const invalidBodies: string[] = [];
  for (let k = 0; k < Math.round(size * 0.035); k++) {
    const body = malformed[k % malformed.length]!();
    kinds.set(body, 'malformed');
    invalidBodies.push(body);
    count('malformed');
  }
  for (let k = 0; k < Math.round(size * 0.035); k++) {
    const body = ruleBreaking[k % ruleBreaking.length]!();
    kinds.set(body, 'rule-breaking');
    invalidBodies.push(body);
    count('rule-breaking');
  }

  // Re-sends fill phase A: a third with the keys reordered, the rest exact.
  const phaseA = [...validUnique, ...invalidBodies];
  while (phaseA.length < size) {
    const original = pick(random, validUnique);
    if (random() < 0.35) {
      const body = reordered(original);
      kinds.set(body, 'valid');
      phaseA.push(body);
      count('re-sent, keys reordered');
    } else {
      phaseA.push(original);
      count('re-sent, exact');
    }
  }
  shuffle(random, phaseA);
  return {
    seed: seed as SandboxSeed,
    phaseA,
    kinds,
    expectedA,
    pairCandidates: shuffle(random, pairCandidates),
    invalidIdentities: new Set(invalid),
    counts,
    random,
  };
}

/**
 * Phases B and C, once A is through: REVOKEs of granted access (only of grants SailPoint accepted, so a
 * unit lost in A is not counted twice), then the producer's re-sends of those GRANT messages.
 */
export function laterPhases(
  workload: FaultWorkload,
  accepted: ReadonlyMap<string, number>,
  messages: number,
) {
  const { random, kinds, counts } = workload;
  const size = Math.floor(messages * 0.1);
  const pairs = workload.pairCandidates
    .filter((p) => accepted.has(`GRANT_ACCESS|${p.identity}|${ITEM_TYPES[p.item]}|${benchItem(p.item)}`))
    .slice(0, Math.round(size * 0.6));
  const revokes = pairs.map((p, k) => {
    const body = JSON.stringify({
      requestId: `FAULT-B-${k}`,
      requestedFor: [p.identity],
      requestType: 'REVOKE_ACCESS',
      requestedItems: [{ type: ITEM_TYPES[p.item], id: benchItem(p.item), comment: 'fault run: pair' }],
    });
    kinds.set(body, 'valid');
    return body;
  });
  counts['revoke of access granted in A (phase B)'] = revokes.length;
  const phaseB = [...revokes];
  while (revokes.length > 0 && phaseB.length < size) {
    const original = pick(random, revokes);
    const body = random() < 0.5 ? reordered(original) : original;
    kinds.set(body, 'valid');
    phaseB.push(body);
  }
  counts['phase B re-sends'] = phaseB.length - revokes.length;
  const phaseC: string[] = [];
  while (pairs.length > 0 && phaseC.length < size) phaseC.push(pick(random, pairs).body);
  counts['producer re-sends of revoked GRANTs (phase C)'] = phaseC.length;
  return {
    phaseB: shuffle(random, phaseB),
    phaseC,
    expectedB: new Set(unitsOfBodies(revokes).map((u) => u.key)),
  };
}
