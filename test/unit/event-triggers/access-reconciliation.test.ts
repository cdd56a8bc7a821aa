/**
 * The reconciliation's decisions with fakes around it: what each SailPoint state records, how the
 * status reads are grouped and paged, what leaves the index and what waits. Over the wire:
 * test/integration/event-triggers/access-reconciliation.test.ts.
 */
import type { StatusWord } from '../../../functions/event-triggers/access-events';
import {
  AccessRequestStatusSource,
  createAccessReconciliation,
  IDS_PER_STATUS_CALL,
  MAX_AWAIT_DAYS,
  type AwaitedOutcome,
} from '../../../functions/event-triggers/access-reconciliation';
import type { StoredOutcome, UnitOutcomeRecord } from '../../../functions/access-provisioning/state-store';
import { silentLog } from '../../../functions/shared/observability';
import type { ApiRequest } from '../../../functions/shared/sailpoint/client';

const NOW = Date.parse('2030-06-01T12:00:00Z');
const HOUR = 3_600_000;
const ID = (n: number) => `1d000000000000000000000000000${String(n).padStart(3, '0')}`;
const ROLE = (n: number) => `7e5701e0000000000000000000000${String(n).padStart(3, '0')}`;

function unit(n: number, extra: Partial<UnitOutcomeRecord> = {}): UnitOutcomeRecord {
  return {
    unit: `GRANT_ACCESS of ROLE ${ROLE(n)} for ${ID(n)}`,
    requestType: 'GRANT_ACCESS',
    identityId: ID(n),
    itemType: 'ROLE',
    itemId: ROLE(n),
    outcome: 'submitted',
    detail: 'submitted',
    accessRequestIds: [`ar-${n}`],
    ...extra,
  };
}

/** A status entry of unit n's request. */
function entry(n: number, state: string, extra: Record<string, unknown> = {}) {
  return {
    id: `ar-${n}`,
    accessRequestId: `ar-${n}`,
    type: 'ROLE',
    state,
    requestType: 'GRANT_ACCESS',
    created: new Date(NOW - 3 * HOUR).toISOString(),
    modified: new Date(NOW - 2 * HOUR).toISOString(),
    requestedFor: { type: 'IDENTITY', id: ID(n) },
    clientMetadata: { igaAutopilotItem: `ROLE:${ROLE(n)}` },
    ...extra,
  };
}

function setup(
  messages: Record<string, readonly UnitOutcomeRecord[]>,
  statuses: Record<string, unknown>[],
  options: { firstSeenAt?: number; maxMessages?: number } = {},
) {
  const index = new Map<string, string>(
    Object.keys(messages).map((m) => [m, new Date(NOW - 2 * HOUR).toISOString()]),
  );
  const queries: Record<string, unknown>[] = [];
  const transport = {
    send: async <T>(request: ApiRequest<T>): Promise<T> => {
      const q = request.query ?? {};
      queries.push(q);
      const filters = String(q.filters ?? '');
      const ids = /accessRequestId in \((.*)\)/
        .exec(filters)?.[1]
        ?.split(',')
        .map((s) => JSON.parse(s) as string);
      const all = statuses.filter(
        (s) =>
          (ids === undefined || ids.includes(s.accessRequestId as string)) &&
          (q['requested-for'] === undefined || (s.requestedFor as { id: string }).id === q['requested-for']),
      );
      const offset = Number(q.offset ?? 0);
      return all.slice(offset, offset + Number(q.limit ?? 250)) as T;
    },
  };
  let sources = 0;
  const recorded: StatusWord[] = [];
  const settled: string[] = [];
  const deferred: string[] = [];
  const run = createAccessReconciliation({
    awaited: {
      async due(before: string, limit: number) {
        const items: AwaitedOutcome[] = [...index]
          .filter(([, since]) => since <= before)
          .sort((a, b) => a[1].localeCompare(b[1]))
          .map(([messageId, since]) => ({ messageId, since }));
        return { items: items.slice(0, limit), more: items.length > limit };
      },
      async settle(e) {
        index.delete(e.messageId);
        settled.push(e.messageId);
      },
      async defer(e, next) {
        index.set(e.messageId, next);
        deferred.push(e.messageId);
      },
    },
    outcomes: {
      async outcomeOfMessage(messageId) {
        const units = messages[messageId];
        if (!units) return undefined;
        return {
          messageId,
          status: 'submitted',
          units,
          unitCounts: {},
          receiveCount: 1,
          firstSeenAt: options.firstSeenAt ?? NOW - 3 * HOUR,
          updatedAt: NOW - 3 * HOUR,
          history: [],
        } satisfies StoredOutcome;
      },
    },
    statuses: async () => {
      sources++;
      return new AccessRequestStatusSource(transport);
    },
    events: {
      async fromStatus(words) {
        recorded.push(...words);
        return { units: words.length, ours: words.length, findingsOpened: 0, notified: 0 };
      },
    },
    graceMs: HOUR,
    maxMessages: options.maxMessages ?? 100,
    now: () => new Date(NOW),
    log: silentLog,
  });
  return {
    run: () => run({ task: 'reconcile-access-events' }),
    queries,
    recorded,
    settled,
    deferred,
    index,
    sources: () => sources,
  };
}

describe('the reconciliation of lost access events', () => {
  it('with nothing due makes no SailPoint client and no call', async () => {
    const t = setup({}, []);
    expect(await t.run()).toMatchObject({ due: 0, statusCalls: 0 });
    expect(t.sources()).toBe(0);
    expect(t.queries).toEqual([]);
  });

  it('records each final state as the events would have said it, and leaves what SailPoint still works on', async () => {
    const t = setup(
      { m1: [unit(1)], m2: [unit(2)], m3: [unit(3)], m4: [unit(4)], m5: [unit(5)], m6: [unit(6)] },
      [
        entry(1, 'REQUEST_COMPLETED'),
        entry(2, 'REJECTED', {
          approvalDetails: [
            { status: 'APPROVED', currentOwner: { name: 'Amelia Manager' }, comment: 'fine by me' },
            { status: 'REJECTED', currentOwner: { name: 'Owen Owner' }, comment: 'not for contractors' },
          ],
        }),
        entry(3, 'NOT_ALL_ITEMS_PROVISIONED', {
          errorMessages: [[{ locale: 'en-US', text: 'AD: connection refused' }], [{ text: 'retry later' }]],
        }),
        entry(4, 'CANCELLED'),
        entry(5, 'EXECUTING'),
        // unit 6's request is not listed (SailPoint ignored it)
      ],
    );
    const summary = await t.run();
    expect(summary).toMatchObject({
      due: 6,
      unitsChecked: 6,
      provisioned: 1,
      rejected: 1,
      failed: 1,
      ended: 1,
      notListed: 1,
      stillPending: 1,
      settled: 5,
      statusCalls: 1, // six ids: one bulk read
    });
    expect(t.recorded).toEqual([
      expect.objectContaining({ outcome: 'provisioned', accessRequestId: 'ar-1', at: NOW - 2 * HOUR }),
      expect.objectContaining({
        outcome: 'rejected',
        approver: 'Owen Owner',
        comment: 'not for contractors',
        unit: {
          identityId: ID(2),
          itemType: 'ROLE',
          itemId: ROLE(2),
          operation: 'GRANT_ACCESS',
          messageId: 'm2',
        },
      }),
      expect.objectContaining({ outcome: 'failed', errors: ['AD: connection refused', 'retry later'] }),
    ]);
    expect(t.deferred).toEqual(['m5']);
    expect(t.index.get('m5')).toBe(new Date(NOW).toISOString()); // read again a grace period later
    expect(t.queries[0]).toMatchObject({
      filters: 'accessRequestId in ("ar-1","ar-2","ar-3","ar-4","ar-5","ar-6")',
    });
  });

  it('looks up only the units without a final word, bulk by id in chunks, per identity without ids, paged', async () => {
    const many = Array.from({ length: IDS_PER_STATUS_CALL + 10 }, (_, i) => unit(i + 10));
    const t = setup(
      {
        big: many,
        done: [
          unit(1, {
            sailpoint: { state: 'provisioned', accessRequestId: 'ar-1', at: '2030-06-01T09:00:00Z' },
          }),
        ],
        half: [
          unit(2, { sailpoint: { state: 'approved', accessRequestId: 'ar-2', at: '2030-06-01T09:00:00Z' } }),
        ],
        beta: [unit(3, { accessRequestIds: undefined })],
      },
      [
        ...many.map((_, i) => entry(i + 10, 'REQUEST_COMPLETED')),
        entry(2, 'REQUEST_COMPLETED'),
        // 300 older requests of identity 3 (two pages), then its own
        ...Array.from({ length: 300 }, () =>
          entry(3, 'REQUEST_COMPLETED', { clientMetadata: null, id: 'other' }),
        ),
        entry(3, 'REJECTED'),
      ],
    );
    const summary = await t.run();
    expect(summary).toMatchObject({
      unitsChecked: many.length + 2,
      provisioned: many.length + 1,
      rejected: 1,
    });
    // 60 + 1 ids: two bulk calls; identity 3: two pages.
    expect(summary.statusCalls).toBe(4);
    expect(t.queries[2]).toMatchObject({
      'requested-for': ID(3),
      filters: `created ge ${new Date(NOW - 3 * HOUR - 5 * 60_000).toISOString()}`,
      sorters: 'created',
      offset: 0,
    });
    expect(t.queries[3]).toMatchObject({ offset: 250 });
    expect(t.settled.sort()).toEqual(['beta', 'big', 'done', 'half']);
  });

  it(`gives up on a unit after ${MAX_AWAIT_DAYS} days without reading SailPoint`, async () => {
    const t = setup({ old: [unit(1)] }, [entry(1, 'EXECUTING')], {
      firstSeenAt: NOW - (MAX_AWAIT_DAYS + 1) * 86_400_000,
    });
    expect(await t.run()).toMatchObject({ gaveUp: 1, settled: 1, statusCalls: 0 });
    expect(t.sources()).toBe(0);
  });

  it('takes at most maxMessages outcomes, oldest first, and says more are due', async () => {
    const t = setup(
      { a: [unit(1)], b: [unit(2)] },
      [entry(1, 'REQUEST_COMPLETED'), entry(2, 'REQUEST_COMPLETED')],
      {
        maxMessages: 1,
      },
    );
    expect(await t.run()).toMatchObject({ due: 1, more: true });
    expect(await t.run()).toMatchObject({ due: 1, more: false });
    expect(t.recorded).toHaveLength(2);
  });

  it('refuses any other payload, naming what it expects', async () => {
    const t = setup({}, []);
    const run = createAccessReconciliation({} as never);
    await expect(run({ task: 'something-else' })).rejects.toThrow(
      /expected an SQS batch \(Records\) or \{"task": "reconcile-access-events"\}/,
    );
    expect(t.sources()).toBe(0);
  });
});
