import {
  eventOrderKey,
  normalizeOrderKey,
  parseAbsenceEvent,
  preciseUtc,
} from '../../../functions/absence-reassignment/event';
import { spId } from '../../support/sailpoint-ids';

const start = {
  eventId: 'evt-1',
  type: 'ABSENCE_STARTED',
  absenceId: 'leave-1',
  identityId: spId('id-1'),
  startDate: '2030-07-01T08:00:00+02:00',
  endDate: '2030-07-15T18:00:00Z',
  occurredAt: '2030-06-01T10:00:00Z',
};

const parse = (body: unknown) => parseAbsenceEvent(typeof body === 'string' ? body : JSON.stringify(body));

describe('absence event contract', () => {
  it('accepts a start, normalises dates to UTC and defaults to all three work types and the manager', () => {
    const parsed = parse(start);
    expect(parsed).toEqual({
      ok: true,
      event: {
        ...start,
        startDate: '2030-07-01T06:00:00.000Z',
        endDate: '2030-07-15T18:00:00.000Z',
        occurredAt: '2030-06-01T10:00:00.000Z',
        delegateId: null,
        configTypes: ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'],
      },
    });
  });

  it('keeps an explicit delegate, an open end and a subset of work types in canonical order', () => {
    const parsed = parse({
      ...start,
      endDate: null,
      delegateId: spId('id-2'),
      configTypes: ['MANUAL_TASKS', 'ACCESS_REQUESTS'],
    });
    expect(parsed.ok && parsed.event).toMatchObject({
      endDate: null,
      delegateId: spId('id-2'),
      configTypes: ['ACCESS_REQUESTS', 'MANUAL_TASKS'],
    });
  });

  it('accepts a cancellation without dates', () => {
    const parsed = parse({
      eventId: 'e',
      type: 'ABSENCE_CANCELLED',
      absenceId: 'a',
      identityId: spId('i'),
      occurredAt: '2030-06-02T00:00:00Z',
    });
    expect(parsed.ok).toBe(true);
  });

  it.each([
    ['not JSON', '{oops', 'the message body is not JSON'],
    [
      'an unknown type',
      { ...start, type: 'ABSENCE_MOVED' },
      'type: must be one of ABSENCE_STARTED, ABSENCE_UPDATED, ABSENCE_CANCELLED',
    ],
    ['a missing identity', { ...start, identityId: undefined }, 'identityId: is required'],
    [
      'an end before the start',
      { ...start, endDate: '2030-06-30T00:00:00Z' },
      'endDate: must be after startDate',
    ],
    [
      'a date without a time zone',
      { ...start, startDate: '2030-07-01T08:00:00' },
      'startDate: must be an ISO-8601 date-time with a time zone',
    ],
    ['a missing endDate (null must be explicit)', { ...start, endDate: undefined }, 'endDate: is required'],
    ['an unknown work type', { ...start, configTypes: ['ACCESS_REQUESTS', 'PAYROLL'] }, 'configTypes.1:'],
    [
      'a repeated work type',
      { ...start, configTypes: ['CERTIFICATIONS', 'CERTIFICATIONS'] },
      'must not repeat a work type',
    ],
    ['an empty work type list', { ...start, configTypes: [] }, 'must name at least one work type'],
    [
      'a misspelt field (it would silently mean "the manager")',
      { ...start, delegate: spId('id-2') },
      'delegate',
    ],
    [
      'an identity id that is a dot segment (it would change the API path called)',
      { ...start, identityId: '..' },
      'identityId: must be a SailPoint id: 32 hexadecimal characters',
    ],
    ['a readable delegate id', { ...start, delegateId: 'vic' }, 'delegateId: must be a SailPoint id'],
  ])('refuses %s with a reason that names the problem', (_what, body, expected) => {
    const parsed = parse(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toMatch(/^invalid absence event: /);
      expect(parsed.reason).toContain(expected);
    }
  });

  it('orders events by occurredAt, then eventId', () => {
    const a = eventOrderKey({ occurredAt: '2030-06-01T10:00:00.000Z', eventId: 'b' });
    const b = eventOrderKey({ occurredAt: '2030-06-01T10:00:00.000Z', eventId: 'c' });
    const c = eventOrderKey({ occurredAt: '2030-06-01T10:00:01.000Z', eventId: 'a' });
    expect([c, b, a].sort()).toEqual([a, b, c]);
  });

  it('keeps occurredAt below the millisecond, in UTC, so events 0.8 ms apart stay apart (#11)', () => {
    expect(preciseUtc('2030-06-01T10:00:00.0001+02:00')).toBe('2030-06-01T08:00:00.0001Z');
    expect(preciseUtc('2030-06-01T10:00:00.123456789123Z')).toBe('2030-06-01T10:00:00.123456789Z');
    expect(preciseUtc('2030-06-01T10:00:00Z')).toBe('2030-06-01T10:00:00.000Z');
    expect(preciseUtc('2030-06-01T10:00:00.5Z')).toBe('2030-06-01T10:00:00.500Z');
    const parsed = parse({ ...start, occurredAt: '2030-06-01T10:00:00.0009Z' });
    expect(parsed.ok && parsed.event.occurredAt).toBe('2030-06-01T10:00:00.0009Z');

    const earlier = eventOrderKey({ occurredAt: '2030-06-01T10:00:00.0001Z', eventId: 'z' });
    const later = eventOrderKey({ occurredAt: '2030-06-01T10:00:00.0009Z', eventId: 'a' });
    const sameMs = eventOrderKey({ occurredAt: '2030-06-01T10:00:00.000Z', eventId: 'y' });
    expect([later, earlier, sameMs].sort()).toEqual([sameMs, earlier, later]);
    // A key stored before nanoseconds were kept compares like today's.
    expect(normalizeOrderKey('2030-06-01T10:00:00.000Z|y')).toBe(sameMs);
  });
});
