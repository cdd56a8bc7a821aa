import { parseAccessRequestMessage } from '../../../functions/access-provisioning/contract';
import { buildFaultWorkload, laterPhases, reorderKeys } from '../../../bench/lib/fault-workload';
import { rateLimitBound } from '../../../bench/lib/measure';
import { buildWorkload } from '../../../bench/lib/workload';

describe('bench fault workload', () => {
  const workload = buildFaultWorkload({ messages: 1_000, identities: 200, seed: 3 });

  it('is the same for the same seed', () => {
    expect(buildFaultWorkload({ messages: 1_000, identities: 200, seed: 3 }).phaseA).toEqual(workload.phaseA);
    expect(buildFaultWorkload({ messages: 1_000, identities: 200, seed: 4 }).phaseA).not.toEqual(
      workload.phaseA,
    );
  });

  it('labels messages truly: valid ones pass the contract, malformed ones do not, invalid ones name only their own identities', () => {
    const now = Date.now();
    for (const body of new Set(workload.phaseA)) {
      const kind = workload.kinds.get(body);
      const parsed = parseAccessRequestMessage(body, now);
      if (kind === 'valid') expect({ body, ok: parsed.ok }).toEqual({ body, ok: true });
      if (kind === 'malformed') expect({ body, ok: parsed.ok }).toEqual({ body, ok: false });
      if (kind !== 'valid' && parsed.ok) {
        // Rule-breaking for SailPoint only (an item it refuses): still only invalid identities.
        expect(parsed.message.requestedFor.every((id) => workload.invalidIdentities.has(id))).toBe(true);
      }
    }
    const counts = workload.counts;
    expect(counts.malformed).toBeGreaterThan(0);
    expect(counts['rule-breaking']).toBeGreaterThan(0);
    expect(counts['re-sent, keys reordered']).toBeGreaterThan(0);
    expect(counts['grant (several identities)']).toBeGreaterThan(0);
    expect(workload.phaseA).toHaveLength(800);
  });

  it('asks for each identity × item once across the valid messages', () => {
    const granted = [...workload.expectedA].filter((k) => k.startsWith('GRANT_ACCESS|'));
    expect(new Set(granted.map((k) => k.split('|').slice(1).join('|'))).size).toBe(granted.length);
  });

  it('pairs phase B revokes only with grants SailPoint accepted, and phase C re-sends those GRANT bodies', () => {
    const accepted = new Map([...workload.expectedA].map((k) => [k, 1]));
    const { phaseB, phaseC, expectedB } = laterPhases(workload, accepted, 1_000);
    expect(phaseB).toHaveLength(100);
    expect(phaseC).toHaveLength(100);
    for (const key of expectedB) {
      expect(accepted.has(key.replace('REVOKE_ACCESS|', 'GRANT_ACCESS|'))).toBe(true);
    }
    const candidates = new Set(workload.pairCandidates.map((p) => p.body));
    expect(phaseC.every((body) => candidates.has(body))).toBe(true);
    expect(laterPhases(workload, new Map(), 1_000).expectedB.size).toBe(0);
  });

  it('reorders keys without changing the message', () => {
    const body = { requestedFor: ['a'], requestedItems: [{ type: 'ROLE', id: 'r' }], requestId: 'x' };
    const text = JSON.stringify(reorderKeys(body));
    expect(text).toBe('{"requestId":"x","requestedItems":[{"id":"r","type":"ROLE"}],"requestedFor":["a"]}');
    expect(JSON.parse(text)).toEqual(body);
  });
});

describe('bench rate-limit bound', () => {
  it('is the slower API version: coalesced POSTs at 10/s, bulk reads at 10/s', () => {
    const workload = buildWorkload({ messages: 1_000, duplicateRatio: 0.3, identities: 300, seed: 1 });
    const bound = rateLimitBound(workload.units, 250);
    expect(bound.posts).toBe(105); // the figure issue #9 quotes for this workload
    expect(bound.identities).toBe(266);
    expect(bound.searches).toBe(2);
    expect(bound.seconds).toBeCloseTo(10.5);
  });
});
