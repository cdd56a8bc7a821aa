import { coalesce, ITEM_MARKER_KEY } from '../../../functions/access-provisioning/coalesce';
import type { AccessRequestMessage } from '../../../functions/access-provisioning/contract';
import { unitsOf, type Unit } from '../../../functions/access-provisioning/units';

const limits = { maxRecipients: 50 };

function units(
  message: Partial<AccessRequestMessage> & Pick<AccessRequestMessage, 'requestedFor' | 'requestedItems'>,
): Unit[] {
  return unitsOf({ requestType: 'GRANT_ACCESS', ...message });
}

/** Every unit appears exactly once across the planned requests, and each request is a rectangle. */
function expectExactCover(input: Unit[], planned: ReturnType<typeof coalesce>) {
  const keys = planned.flatMap((p) => p.units.map((u) => u.key)).sort();
  expect(keys).toEqual(input.map((u) => u.key).sort());
  for (const p of planned) {
    expect(p.units).toHaveLength(p.body.requestedFor.length * p.body.requestedItems.length);
  }
}

describe('coalescing units into API-legal requests', () => {
  it('puts 26 items for one identity into 2 requests (25 + 1)', () => {
    const input = units({
      requestedFor: ['id1'],
      requestedItems: Array.from({ length: 25 }, (_, i) => ({ type: 'ROLE' as const, id: `r${i}` })),
    }).concat(units({ requestedFor: ['id1'], requestedItems: [{ type: 'ROLE', id: 'r25' }] }));
    const planned = coalesce(input, limits);
    expect(planned.map((p) => p.body.requestedItems.length)).toEqual([25, 1]);
    expectExactCover(input, planned);
  });

  it('follows the current spec: at most 25 entitlements per request, other items up to maxItems', () => {
    const mixed = units({
      requestedFor: ['id1'],
      requestedItems: [
        ...Array.from({ length: 30 }, (_, i) => ({ type: 'ENTITLEMENT' as const, id: `e${i}` })),
        ...Array.from({ length: 20 }, (_, i) => ({ type: 'ROLE' as const, id: `r${i}` })),
      ],
    });
    const planned = coalesce(mixed, { maxRecipients: 50, maxItems: 40 });
    for (const p of planned) {
      expect(p.body.requestedItems.filter((i) => i.type === 'ENTITLEMENT').length).toBeLessThanOrEqual(25);
      expect(p.body.requestedItems.length).toBeLessThanOrEqual(40);
    }
    expect(planned).toHaveLength(2);
    expectExactCover(mixed, planned);
  });

  it('gives an entitlement to 11 recipients in 2 requests (10 + 1), a role to 11 in one', () => {
    const ids = Array.from({ length: 11 }, (_, i) => `id${i}`);
    const entitlement = units({ requestedFor: ids, requestedItems: [{ type: 'ENTITLEMENT', id: 'e1' }] });
    const planned = coalesce(entitlement, limits);
    expect(planned.map((p) => p.body.requestedFor.length)).toEqual([10, 1]);
    expectExactCover(entitlement, planned);

    const role = units({ requestedFor: ids, requestedItems: [{ type: 'ROLE', id: 'r1' }] });
    expect(coalesce(role, limits)).toHaveLength(1);
    expect(coalesce(role, { maxRecipients: 4 }).map((p) => p.body.requestedFor.length)).toEqual([4, 4, 3]);
  });

  it('merges one-identity messages asking for the same item into one multi-recipient request', () => {
    const input = ['a', 'b', 'c'].flatMap((id) =>
      units({
        requestedFor: [id],
        requestedItems: [{ type: 'ACCESS_PROFILE', id: 'ap1', comment: 'onboarding' }],
      }),
    );
    const planned = coalesce(input, limits);
    expect(planned).toHaveLength(1);
    expect(planned[0]!.body).toEqual({
      requestedFor: ['a', 'b', 'c'],
      requestType: 'GRANT_ACCESS',
      requestedItems: [
        {
          type: 'ACCESS_PROFILE',
          id: 'ap1',
          comment: 'onboarding',
          clientMetadata: { [ITEM_MARKER_KEY]: 'ACCESS_PROFILE:ap1' },
        },
      ],
    });
  });

  it('keeps per-item comment, removeDate and clientMetadata: different attributes are not merged', () => {
    const input = [
      ...units({
        requestedFor: ['a'],
        requestedItems: [{ type: 'ROLE', id: 'r1', comment: 'x', clientMetadata: { t: '1' } }],
      }),
      ...units({ requestedFor: ['b'], requestedItems: [{ type: 'ROLE', id: 'r1', comment: 'y' }] }),
      ...units({
        requestedFor: ['c'],
        requestedItems: [{ type: 'ROLE', id: 'r1', removeDate: '2031-01-01T00:00:00Z' }],
      }),
    ];
    const planned = coalesce(input, limits);
    expect(planned).toHaveLength(3);
    expect(planned.map((p) => p.body.requestedItems[0])).toEqual([
      { type: 'ROLE', id: 'r1', comment: 'x', clientMetadata: { t: '1', [ITEM_MARKER_KEY]: 'ROLE:r1' } },
      { type: 'ROLE', id: 'r1', comment: 'y', clientMetadata: { [ITEM_MARKER_KEY]: 'ROLE:r1' } },
      {
        type: 'ROLE',
        id: 'r1',
        removeDate: '2031-01-01T00:00:00Z',
        clientMetadata: { [ITEM_MARKER_KEY]: 'ROLE:r1' },
      },
    ]);
  });

  it('never mixes request types or top-level clientMetadata', () => {
    const input = [
      ...units({
        requestedFor: ['a'],
        requestedItems: [{ type: 'ROLE', id: 'r1' }],
        clientMetadata: { app: '1' },
      }),
      ...units({
        requestedFor: ['b'],
        requestedItems: [{ type: 'ROLE', id: 'r1' }],
        clientMetadata: { app: '2' },
      }),
      ...units({ requestedFor: ['c'], requestedItems: [{ type: 'ROLE', id: 'r1' }] }),
    ];
    const planned = coalesce(input, limits);
    expect(planned.map((p) => p.body.clientMetadata)).toEqual([{ app: '1' }, { app: '2' }, undefined]);
  });

  it('keeps the smaller of the identity-centric and item-centric covers', () => {
    // a: {r1,r2}, b: {r1,r2,r3}, c: {r3}. By identity: 3 requests; by item: {a,b}×{r1,r2} + {b,c}×{r3} = 2.
    const itemWins = [
      ...units({
        requestedFor: ['a', 'b'],
        requestedItems: [
          { type: 'ROLE', id: 'r1' },
          { type: 'ROLE', id: 'r2' },
        ],
      }),
      ...units({ requestedFor: ['b', 'c'], requestedItems: [{ type: 'ROLE', id: 'r3' }] }),
    ];
    const planned = coalesce(itemWins, limits);
    expect(planned.map((p) => [p.body.requestedFor, p.body.requestedItems.map((i) => i.id)])).toEqual([
      [
        ['a', 'b'],
        ['r1', 'r2'],
      ],
      [['b', 'c'], ['r3']],
    ]);
    expectExactCover(itemWins, planned);

    // a: {r1,x}, b: {r1,y}, c: {r1,z}. By identity: 3; by item: {a,b,c}×{r1} + 3 singles = 4.
    const identityWins = [
      ...units({ requestedFor: ['a', 'b', 'c'], requestedItems: [{ type: 'ROLE', id: 'r1' }] }),
      ...units({ requestedFor: ['a'], requestedItems: [{ type: 'ROLE', id: 'x' }] }),
      ...units({ requestedFor: ['b'], requestedItems: [{ type: 'ROLE', id: 'y' }] }),
      ...units({ requestedFor: ['c'], requestedItems: [{ type: 'ROLE', id: 'z' }] }),
    ];
    expect(coalesce(identityWins, limits)).toHaveLength(3);
    expectExactCover(identityWins, coalesce(identityWins, limits));
  });

  it('revokes one identity per request and at most one entitlement per request', () => {
    const input = [
      ...unitsOf({
        requestType: 'REVOKE_ACCESS',
        requestedFor: ['a'],
        requestedItems: [
          { type: 'ENTITLEMENT', id: 'e1', comment: 'c' },
          { type: 'ENTITLEMENT', id: 'e2', comment: 'c' },
          { type: 'ROLE', id: 'r1', comment: 'c' },
          { type: 'ROLE', id: 'r2', comment: 'c' },
        ],
      }),
      ...unitsOf({
        requestType: 'REVOKE_ACCESS',
        requestedFor: ['b'],
        requestedItems: [{ type: 'ROLE', id: 'r1', comment: 'c' }],
      }),
    ];
    const planned = coalesce(input, limits);
    expect(planned.map((p) => [p.body.requestedFor, p.body.requestedItems.map((i) => i.id)])).toEqual([
      [['a'], ['e1', 'r1', 'r2']],
      [['a'], ['e2']],
      [['b'], ['r1']],
    ]);
    for (const p of planned) expect(p.body.requestType).toBe('REVOKE_ACCESS');
    expectExactCover(input, planned);
  });

  it('splits 30 revoked roles of one identity into 25 + 5', () => {
    const input = unitsOf({
      requestType: 'REVOKE_ACCESS',
      requestedFor: ['a'],
      requestedItems: Array.from({ length: 30 }, (_, i) => ({
        type: 'ROLE' as const,
        id: `r${i}`,
        comment: 'c',
      })),
    });
    expect(coalesce(input, limits).map((p) => p.body.requestedItems.length)).toEqual([25, 5]);
  });
});
