/**
 * Identity Attributes Changed → absence events → reassignment configurations, over the wire:
 * sandbox emission, the local EventBridge with the stack's rules, fauxqs, dynalite, both real handlers.
 */
import { changeIdentityAttributes } from '../../../sandbox/events/emit';
import { DEV, FARID, triggerHarness } from './harness';

jest.setTimeout(60_000);

type Harness = Awaited<ReturnType<typeof triggerHarness>>;
let h: Harness;
afterEach(async () => h?.stop());

const JULY = { leaveStatus: 'LOA', leaveStart: '2030-07-01', leaveEnd: '2030-07-14' };

const change = (values: Record<string, string | null>) =>
  changeIdentityAttributes(h.sandbox.state, FARID, values, h.clock.now());

describe('identity attributes → absences', () => {
  it('turns a leave into configurations to the manager; its re-delivery is a no-op; its reversal cancels', async () => {
    h = await triggerHarness();
    const [started] = await change(JULY);
    await h.settle();

    const configured = h.configurations(FARID);
    expect(Object.keys(configured).sort()).toEqual(['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS']);
    expect(configured.ACCESS_REQUESTS).toEqual({
      to: DEV,
      startDate: '2030-07-01T00:00:00.000Z',
      endDate: '2030-07-15T00:00:00.000Z',
    });
    const writes = () =>
      h.sandbox.requestLog.count({ method: 'POST', path: /^\/beta\/reassignment-configurations$/ }) +
      h.sandbox.requestLog.count({ method: 'PUT', path: /^\/beta\/reassignment-configurations\// }) +
      h.sandbox.requestLog.count({ method: 'DELETE', path: /^\/beta\/reassignment-configurations\// });
    const writesAfterStart = writes();
    const [absence] = await h.absenceStore.listForIdentity(FARID);
    expect(absence).toMatchObject({ status: 'ACTIVE', lastEventType: 'ABSENCE_STARTED' });

    // At-least-once: the same envelope again, twice.
    await h.redeliver(started!);
    await h.redeliver(started!);
    await h.settle();
    expect(writes()).toBe(writesAfterStart);
    const [again] = await h.absenceStore.listForIdentity(FARID);
    expect(again!.version).toBe(absence!.version); // duplicates of the same eventId: nothing decided
    expect(h.total('absenceEventsSent')).toBe(3);

    // The reversal: back from leave.
    h.clock.advance(60_000);
    await change({ leaveStatus: 'ACTIVE' });
    await h.settle();
    expect(h.configurations(FARID)).toEqual({});
    const [cancelled] = await h.absenceStore.listForIdentity(FARID);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', lastEventType: 'ABSENCE_CANCELLED' });
  });

  it('keeps the whole absence when only the end date changes (an extension)', async () => {
    h = await triggerHarness();
    await change(JULY);
    await h.settle();
    h.clock.advance(60_000);
    await change({ leaveEnd: '2030-07-21' });
    await h.settle();
    expect(h.configurations(FARID).CERTIFICATIONS).toEqual({
      to: DEV,
      startDate: '2030-07-01T00:00:00.000Z',
      endDate: '2030-07-22T00:00:00.000Z',
    });
  });

  it('ends in the state of the latest change when the events arrive out of order', async () => {
    h = await triggerHarness();
    // Capture the two envelopes instead of delivering them as they happen.
    const captured: Parameters<typeof h.redeliver>[0][] = [];
    h.sandbox.state.triggers.deliver = (envelope) => void captured.push(envelope);
    await change(JULY);
    h.clock.advance(60_000);
    await change({ leaveStatus: 'ACTIVE' });
    expect(captured).toHaveLength(2);

    // The reversal first, then the start it reverses.
    await h.redeliver(captured[1]!);
    await h.settle();
    await h.redeliver(captured[0]!);
    await h.settle();
    expect(h.configurations(FARID)).toEqual({});
    const [absence] = await h.absenceStore.listForIdentity(FARID);
    expect(absence!.status).toBe('CANCELLED');
    expect(
      h.sandbox.requestLog.count({ method: 'POST', path: /^\/beta\/reassignment-configurations$/ }),
    ).toBe(0);
  });

  it('a start whose status comes after its dates (split over two events, reordered) still configures', async () => {
    h = await triggerHarness();
    const captured: Parameters<typeof h.redeliver>[0][] = [];
    h.sandbox.state.triggers.deliver = (envelope) => void captured.push(envelope);
    await change({ leaveStart: '2030-07-01', leaveEnd: '2030-07-14' });
    h.clock.advance(1_000);
    await change({ leaveStatus: 'LOA' });
    // The later (status) event first: the dates are not known yet when it arrives.
    await h.redeliver(captured[1]!);
    await h.settle();
    await h.redeliver(captured[0]!);
    await h.settle();
    expect(h.configurations(FARID).MANUAL_TASKS).toEqual({
      to: DEV,
      startDate: '2030-07-01T00:00:00.000Z',
      endDate: '2030-07-15T00:00:00.000Z',
    });
  });

  it('ignores attributes outside the mapping cheaply; the recommended filter keeps them from being sent', async () => {
    h = await triggerHarness({ withoutFilter: true });
    await change({ department: 'Finance' });
    await change({ jobTitle: 'Analyst' });
    await h.settle();
    expect(h.total('attributeChangesIgnored')).toBe(2);
    expect(h.total('absenceEventsSent')).toBe(0);
    expect(await h.absenceMessages()).toHaveLength(0);
    await h.stop();

    h = await triggerHarness(); // with the filter `iga triggers subscribe` sets
    await change({ department: 'Finance' });
    await h.settle();
    expect(h.sandbox.state.triggers.delivered).toHaveLength(0);
    await change(JULY);
    await h.settle();
    expect(h.sandbox.state.triggers.delivered).toHaveLength(1);
  });

  it('sends an event that fails validation to the DLQ with the reason', async () => {
    h = await triggerHarness();
    const [envelope] = await change(JULY);
    const broken = {
      ...envelope!,
      id: 'broken-1',
      detail: { identity: { type: 'IDENTITY', id: '../x', name: 'X' } },
    };
    await h.redeliver(broken); // through the rule: it matches on the source alone
    await h.putRaw('not json');
    await h.settle();
    const dead = await h.triggerDeadLetters();
    expect(dead.map((d) => d.reason).sort()).toEqual([
      expect.stringMatching(
        /^invalid idn:identity-attributes-changed event broken-1: detail\.identity\.id: must be a SailPoint id.*; detail\.changes: /,
      ),
      'invalid trigger event: the message body is not JSON',
    ]);
    // The valid original still went through.
    expect(Object.keys(h.configurations(FARID))).toHaveLength(3);
  });

  it('dead-letters unreadable HR dates with the attribute named', async () => {
    h = await triggerHarness();
    await change({ ...JULY, leaveEnd: '14/07/2030' });
    await h.settle();
    const dead = await h.triggerDeadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toMatch(
      /leaveEnd holds "14\/07\/2030": expected YYYY-MM-DD or an ISO-8601 date-time/,
    );
  });
});
