import {
  absenceEventOf,
  applyChanges,
  deriveAbsence,
  recommendedAttributeFilter,
  UnreadableAbsenceError,
  type AbsenceAttributeMapping,
  type AttributeSnapshot,
} from '../../../functions/event-triggers/absence-mapping';
import { parseAbsenceEvent } from '../../../functions/absence-reassignment/event';

const ID = '2c9180aa000000000000000000000006';
const STATUS_ONLY: AbsenceAttributeMapping = { status: { attribute: 'leave', onLeave: ['LOA', 'on leave'] } };
const DATES: AbsenceAttributeMapping = { startDate: 'from', endDate: 'until' };
const T1 = '2030-06-01T10:00:00.000Z';
const T2 = '2030-06-01T11:00:00.000Z';

const apply = (
  s: AttributeSnapshot | undefined,
  changes: { attribute: string; oldValue?: string | null; newValue?: string | null }[],
  at: string,
) => applyChanges(ID, s, changes, at);

describe('applyChanges', () => {
  it('keeps the newer value per attribute, whatever the arrival order', () => {
    const late = apply(undefined, [{ attribute: 'leave', oldValue: 'LOA', newValue: 'ACTIVE' }], T2)!;
    expect(apply(late, [{ attribute: 'leave', oldValue: 'ACTIVE', newValue: 'LOA' }], T1)).toBeUndefined();
  });

  it('at the same second, follows the change whose oldValue is the value held', () => {
    const first = apply(undefined, [{ attribute: 'leave', oldValue: null, newValue: 'LOA' }], T1)!;
    expect(
      apply(first, [{ attribute: 'leave', oldValue: 'LOA', newValue: 'ACTIVE' }], T1)!.values.leave!.value,
    ).toBe('ACTIVE');
    expect(apply(first, [{ attribute: 'leave', oldValue: 'X', newValue: 'ACTIVE' }], T1)).toBeUndefined();
  });

  it('changes nothing on a re-delivery, and keeps the first time of a repeated value', () => {
    const first = apply(undefined, [{ attribute: 'leave', oldValue: null, newValue: 'LOA' }], T1)!;
    expect(apply(first, [{ attribute: 'leave', oldValue: null, newValue: 'LOA' }], T1)).toBeUndefined();
    expect(apply(first, [{ attribute: 'leave', oldValue: 'ACTIVE', newValue: 'LOA' }], T2)).toBeUndefined();
  });
});

describe('deriveAbsence and absenceEventOf', () => {
  it('status only: on leave from the time the status said so, open-ended', () => {
    const s = apply(undefined, [{ attribute: 'leave', newValue: 'On Leave' }], T1)!;
    expect(deriveAbsence(STATUS_ONLY, s)).toEqual({ onLeave: true, startDate: T1, endDate: null });
  });

  it('dates only: whole UTC days, the end day included; empty start = not on leave', () => {
    const s = apply(
      undefined,
      [
        { attribute: 'from', newValue: '2030-07-01' },
        { attribute: 'until', newValue: '2030-07-14' },
      ],
      T1,
    )!;
    expect(deriveAbsence(DATES, s)).toEqual({
      onLeave: true,
      startDate: '2030-07-01T00:00:00.000Z',
      endDate: '2030-07-15T00:00:00.000Z',
    });
    const cleared = apply(s, [{ attribute: 'from', oldValue: '2030-07-01', newValue: '' }], T2)!;
    expect(deriveAbsence(DATES, cleared)).toEqual({ onLeave: false });
  });

  it('refuses dates that are no dates, and an end before the start', () => {
    const bad = apply(undefined, [{ attribute: 'from', newValue: '2030-02-30' }], T1)!;
    expect(() => deriveAbsence(DATES, bad)).toThrow(UnreadableAbsenceError);
    const backwards = apply(
      undefined,
      [
        { attribute: 'from', newValue: '2030-07-10' },
        { attribute: 'until', newValue: '2030-07-01' },
      ],
      T1,
    )!;
    expect(() => deriveAbsence(DATES, backwards)).toThrow(/is not after the start/);
  });

  it('emits events in the absence queue contract, ordered by the snapshot version', () => {
    const on = apply(undefined, [{ attribute: 'leave', newValue: 'LOA' }], T1)!;
    const off = apply(on, [{ attribute: 'leave', oldValue: 'LOA', newValue: 'ACTIVE' }], T2)!;
    const started = absenceEventOf(STATUS_ONLY, on, undefined);
    const cancelled = absenceEventOf(STATUS_ONLY, off, on);
    expect(started).toMatchObject({
      type: 'ABSENCE_STARTED',
      absenceId: `isc-attributes-${ID}`,
      occurredAt: T1,
    });
    expect(cancelled).toMatchObject({
      type: 'ABSENCE_CANCELLED',
      absenceId: started.absenceId,
      occurredAt: T2,
    });
    expect(started.eventId < cancelled.eventId).toBe(true);
    for (const event of [started, cancelled]) expect(parseAbsenceEvent(JSON.stringify(event)).ok).toBe(true);
  });
});

it('recommends a filter that names only the mapped attributes', () => {
  expect(recommendedAttributeFilter({ ...STATUS_ONLY, endDate: 'until' })).toBe(
    '$.changes[?(@.attribute == "leave" || @.attribute == "until")]',
  );
});
