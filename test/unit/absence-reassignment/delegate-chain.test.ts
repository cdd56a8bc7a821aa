import {
  resolveDelegate,
  type DelegateDirectory,
  type DelegateRequest,
  type Landing,
  type OverlappingAbsence,
} from '../../../functions/absence-reassignment/delegate-chain';
import type { ConfigType } from '../../../functions/shared/sailpoint';

interface Person {
  manager?: string;
  inactive?: boolean;
  absent?: { delegateId: string | null };
  /** Where SailPoint sends their work now (per evaluate). */
  landsOn?: string;
}

/** A directory over plain objects; records every lookup so tests can see the work done. */
function directory(people: Record<string, Person>) {
  const calls: string[] = [];
  const dir: DelegateDirectory = {
    async identity(id) {
      calls.push(`identity ${id}`);
      const person = people[id];
      return {
        exists: person !== undefined,
        inactive: person?.inactive ?? false,
        managerId: person?.manager ?? null,
      };
    },
    async absenceOverlapping(id): Promise<OverlappingAbsence | undefined> {
      calls.push(`absence ${id}`);
      const absent = people[id]?.absent;
      return absent
        ? { absenceId: `${id}-leave`, startDate: '2030-07-01T00:00:00.000Z', endDate: null, ...absent }
        : undefined;
    },
    async landing(id, type: ConfigType): Promise<Landing> {
      calls.push(`landing ${id} ${type}`);
      const to = people[id]?.landsOn;
      return to ? { reassignToId: to, via: [to] } : { reassignToId: id, via: [] };
    },
  };
  return { dir, calls };
}

const request = (overrides: Partial<DelegateRequest> = {}): DelegateRequest => ({
  absentId: 'ann',
  requestedDelegateId: null,
  window: { startDate: '2030-07-01T00:00:00.000Z', endDate: '2030-07-15T00:00:00.000Z' },
  configTypes: ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'],
  maxHops: 5,
  ...overrides,
});

const ORG: Record<string, Person> = {
  ann: { manager: 'max' },
  max: { manager: 'vic' },
  vic: {},
  bob: { manager: 'max' },
};

describe('resolving the delegate', () => {
  it('takes the explicit delegate when they can cover', async () => {
    const { dir } = directory(ORG);
    const result = await resolveDelegate(request({ requestedDelegateId: 'bob' }), dir);
    expect(result).toMatchObject({
      ok: true,
      delegateId: 'bob',
      trail: [{ identityId: 'bob', via: 'explicit delegate' }],
    });
  });

  it('falls back to the manager from the identity document', async () => {
    const { dir } = directory(ORG);
    expect(await resolveDelegate(request(), dir)).toMatchObject({
      ok: true,
      delegateId: 'max',
      trail: [{ identityId: 'max', via: 'manager of ann' }],
    });
  });

  it('passes over an explicit delegate who is the absent person, or does not exist, for the manager', async () => {
    for (const requestedDelegateId of ['ann', 'ghost']) {
      const { dir } = directory(ORG);
      const result = await resolveDelegate(request({ requestedDelegateId }), dir);
      expect(result).toMatchObject({ ok: true, delegateId: 'max' });
      expect(result.trail[0]?.skipped).toMatch(/is the absent person|does not exist/);
    }
  });

  it('passes over an absent delegate for the delegate of their own absence, else their manager', async () => {
    const covered = directory({ ...ORG, bob: { manager: 'max', absent: { delegateId: 'vic' } } });
    expect(await resolveDelegate(request({ requestedDelegateId: 'bob' }), covered.dir)).toMatchObject({
      ok: true,
      delegateId: 'vic',
      trail: [
        { identityId: 'bob', skipped: expect.stringMatching(/^is absent 2030-07-01/) },
        { identityId: 'vic', via: "delegate of bob's absence" },
      ],
    });
    const uncovered = directory({ ...ORG, max: { manager: 'vic', absent: { delegateId: null } } });
    expect(await resolveDelegate(request(), uncovered.dir)).toMatchObject({ ok: true, delegateId: 'vic' });
  });

  it('passes over an inactive manager, and one to whom SailPoint already routes work back to the absent person', async () => {
    const inactive = directory({ ...ORG, max: { manager: 'vic', inactive: true } });
    expect(await resolveDelegate(request(), inactive.dir)).toMatchObject({ ok: true, delegateId: 'vic' });

    const loop = directory({ ...ORG, max: { manager: 'vic', landsOn: 'ann' } });
    const result = await resolveDelegate(request(), loop.dir);
    expect(result).toMatchObject({ ok: true, delegateId: 'vic' });
    expect(result.trail[0]?.skipped).toContain(
      'SailPoint already reassigns their ACCESS_REQUESTS work to ann',
    );
  });

  it('reports where SailPoint forwards the delegate’s work when it is elsewhere', async () => {
    const { dir } = directory({ ...ORG, max: { manager: 'vic', landsOn: 'vic' } });
    expect(await resolveDelegate(request({ configTypes: ['CERTIFICATIONS'] }), dir)).toMatchObject({
      ok: true,
      delegateId: 'max',
      landsOn: { CERTIFICATIONS: 'vic' },
    });
  });

  it('detects a cycle', async () => {
    const { dir } = directory({
      ann: { manager: 'max' },
      max: { manager: 'vic', absent: { delegateId: 'vic' } },
      vic: { manager: 'max', absent: { delegateId: 'max' } },
    });
    const result = await resolveDelegate(request(), dir);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.reason).toMatch(/^cycle in the delegate chain: max → vic → max \(tried max/);
  });

  it('gives up after maxHops candidates', async () => {
    const chain: Record<string, Person> = { ann: { manager: 'm1' } };
    for (let i = 1; i <= 9; i++) chain[`m${i}`] = { manager: `m${i + 1}`, inactive: true };
    const { dir, calls } = directory(chain);
    const result = await resolveDelegate(request({ maxHops: 3 }), dir);
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^no eligible delegate within 3 candidates/),
    });
    expect(calls.filter((c) => c.startsWith('identity m')).length).toBe(3);
  });

  it('fails with the reason when nobody is left: no manager, or an unknown absent person', async () => {
    const orphan = directory({ ann: {} });
    expect(await resolveDelegate(request(), orphan.dir)).toMatchObject({
      ok: false,
      reason: 'no delegate was named and ann has no manager',
    });
    const unknown = directory({});
    expect(await resolveDelegate(request(), unknown.dir)).toMatchObject({
      ok: false,
      reason: 'the absent identity ann does not exist in SailPoint',
    });
    const topAbsent = directory({ ann: { manager: 'vic' }, vic: { absent: { delegateId: null } } });
    const result = await resolveDelegate(request(), topAbsent.dir);
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^vic has no manager \(tried vic \(manager of ann\): is absent/),
    });
  });

  it('does not ask SailPoint where work lands for candidates already passed over', async () => {
    const { dir, calls } = directory({ ...ORG, max: { manager: 'vic', absent: { delegateId: null } } });
    await resolveDelegate(request(), dir);
    expect(calls.filter((c) => c.startsWith('landing'))).toEqual([
      'landing vic ACCESS_REQUESTS',
      'landing vic CERTIFICATIONS',
      'landing vic MANUAL_TASKS',
    ]);
  });

  it('a candidate already examined is skipped for the next one left: a manager naming their absent report falls to their own manager (#11)', async () => {
    // Ann is away; her manager Max is away too and named Ann to cover for him.
    const { dir } = directory({ ...ORG, max: { manager: 'vic', absent: { delegateId: 'ann' } } });
    const result = await resolveDelegate(request(), dir);
    expect(result).toMatchObject({
      ok: true,
      delegateId: 'vic',
      trail: [
        { identityId: 'max', skipped: expect.stringMatching(/^is absent/) },
        { identityId: 'ann', skipped: 'is the absent person' },
        { identityId: 'vic', via: 'manager of max' },
      ],
      dependsOn: [{ identityId: 'max', absenceId: 'max-leave', why: 'absent', until: null }],
    });
  });

  it('passes over a candidate SailPoint refused for this absence, and lists whom the choice depends on (#11)', async () => {
    const { dir } = directory(ORG);
    const refusal = {
      identityId: 'bob',
      absenceId: null,
      why: 'refused' as const,
      until: null,
      detail: 'loop',
    };
    const result = await resolveDelegate(request({ requestedDelegateId: 'bob', refused: [refusal] }), dir);
    expect(result).toMatchObject({ ok: true, delegateId: 'max', dependsOn: [refusal] });
    expect(result.trail[0]?.skipped).toBe(
      'SailPoint refused a configuration to them (would be a loop: loop)',
    );

    const loop = directory({ ...ORG, max: { manager: 'vic', landsOn: 'ann' } });
    expect(await resolveDelegate(request(), loop.dir)).toMatchObject({
      dependsOn: [{ identityId: 'max', absenceId: null, why: 'loop', until: null }],
    });
  });
});

describe('the delegate policy', () => {
  // ann's chain: max, then vic; her peers share max: bob. rex reports to ann; zed is elsewhere.
  const PEOPLE: Record<string, Person> = {
    ...ORG,
    rex: { manager: 'ann' },
    zed: { manager: 'vic' },
    kim: { manager: 'zed' },
  };
  const chainOrPeers = { kind: 'chain-or-peers' } as const;

  it('chain-or-peers: a manager above, or a peer, may cover', async () => {
    for (const delegate of ['max', 'vic', 'bob']) {
      const { dir } = directory(PEOPLE);
      expect(
        await resolveDelegate(request({ requestedDelegateId: delegate, policy: chainOrPeers }), dir),
      ).toMatchObject({ ok: true, delegateId: delegate });
    }
  });

  it('chain-or-peers: a named delegate outside (a report, someone elsewhere) is passed over for the manager', async () => {
    for (const delegate of ['rex', 'zed', 'kim']) {
      const { dir } = directory(PEOPLE);
      const result = await resolveDelegate(
        request({ requestedDelegateId: delegate, policy: chainOrPeers }),
        dir,
      );
      expect(result).toMatchObject({
        ok: true,
        delegateId: 'max',
        trail: [
          {
            identityId: delegate,
            via: 'explicit delegate',
            skipped: expect.stringMatching(/^is outside the delegate policy \(chain-or-peers/),
          },
          { identityId: 'max', via: 'manager of ann' },
        ],
      });
    }
  });

  it('chain-or-peers: the chain counts MANAGEMENT_CHAIN_LEVELS managers up, no further', async () => {
    // ann ← m1 ← m2 ← … ← m11: m10 is in her chain, m11 is not.
    const tall: Record<string, Person> = { ann: { manager: 'm1' } };
    for (let level = 1; level <= 11; level++) tall[`m${level}`] = { manager: `m${level + 1}` };
    tall.m12 = {};
    const { dir } = directory(tall);
    expect(
      await resolveDelegate(request({ requestedDelegateId: 'm10', policy: chainOrPeers }), dir),
    ).toMatchObject({ ok: true, delegateId: 'm10' });
    const outside = await resolveDelegate(
      request({ requestedDelegateId: 'm11', policy: chainOrPeers }),
      directory(tall).dir,
    );
    expect(outside).toMatchObject({ ok: true, delegateId: 'm1' });
  });

  it('allow-list: only the listed may cover, the manager included; nobody listed → the reason says so', async () => {
    const allowList = { kind: 'allow-list', allowed: new Set(['vic']) } as const;
    expect(
      await resolveDelegate(
        request({ requestedDelegateId: 'bob', policy: allowList }),
        directory(PEOPLE).dir,
      ),
    ).toMatchObject({
      ok: true,
      delegateId: 'vic',
      trail: [
        { identityId: 'bob', skipped: expect.stringMatching(/allow-list/) },
        { identityId: 'max', skipped: expect.stringMatching(/allow-list/) },
        { identityId: 'vic' },
      ],
    });
    const nobody = { kind: 'allow-list', allowed: new Set(['kim']) } as const;
    const result = await resolveDelegate(request({ policy: nobody }), directory(PEOPLE).dir);
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/vic has no manager/) });
    expect(result.ok ? '' : result.reason).toMatch(/not in DELEGATE_ALLOW_LIST/);
  });

  it('any: whoever is named, as before the policy existed', async () => {
    expect(
      await resolveDelegate(
        request({ requestedDelegateId: 'kim', policy: { kind: 'any' } }),
        directory(PEOPLE).dir,
      ),
    ).toMatchObject({ ok: true, delegateId: 'kim' });
  });
});
