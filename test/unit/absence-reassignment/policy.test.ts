import type { AbsenceRecord } from '../../../functions/absence-reassignment/model';
import {
  configurationMatches,
  createdByUs,
  desiredConfigurations,
  requestStartDate,
  windowEnded,
  windowsOverlap,
} from '../../../functions/absence-reassignment/policy';

const NOW = new Date('2030-07-10T12:00:00.000Z');

function absence(overrides: Partial<AbsenceRecord>): AbsenceRecord {
  return {
    identityId: 'p',
    absenceId: 'a',
    status: 'ACTIVE',
    startDate: '2030-07-01T00:00:00.000Z',
    endDate: '2030-07-20T00:00:00.000Z',
    configTypes: ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'],
    requestedDelegateId: null,
    delegateId: 'd',
    delegateTrail: [],
    landsOn: {},
    delegateHistory: ['d'],
    dependsOn: [],
    replanAt: null,
    notices: {},
    lastEventKey: '',
    lastEventId: '',
    lastEventType: 'ABSENCE_STARTED',
    lastOccurredAt: '',
    processedEventIds: [],
    ignoredEvents: [],
    decision: '',
    configurations: {},
    deferred: null,
    deferredUntil: null,
    version: 1,
    reconciledVersion: 1,
    createdAt: '',
    updatedAt: '',
    ...overrides,
  };
}

describe('windows', () => {
  it('a window is over once its end has passed; an open one never is', () => {
    expect(windowEnded({ endDate: '2030-07-10T12:00:00.000Z' }, NOW)).toBe(true);
    expect(windowEnded({ endDate: '2030-07-10T12:00:01.000Z' }, NOW)).toBe(false);
    expect(windowEnded({ endDate: null }, NOW)).toBe(false);
  });

  it('half-open windows overlap only when they share an instant', () => {
    const july = { startDate: '2030-07-01T00:00:00Z', endDate: '2030-08-01T00:00:00Z' };
    expect(windowsOverlap(july, { startDate: '2030-08-01T00:00:00Z', endDate: null })).toBe(false);
    expect(windowsOverlap(july, { startDate: '2030-07-31T23:00:00Z', endDate: null })).toBe(true);
    expect(windowsOverlap({ startDate: '2030-01-01T00:00:00Z', endDate: null }, july)).toBe(true);
  });
});

describe('who holds SailPoint slot of each work type', () => {
  it('the current absence holds it; a later one is deferred; cancelled and finished ones want nothing', () => {
    const desired = desiredConfigurations(
      [
        absence({
          absenceId: 'december',
          startDate: '2030-12-20T00:00:00.000Z',
          endDate: '2031-01-02T00:00:00.000Z',
          delegateId: 'x',
        }),
        absence({ absenceId: 'july', configTypes: ['CERTIFICATIONS'] }),
        absence({ absenceId: 'cancelled', status: 'CANCELLED', startDate: '2030-07-05T00:00:00.000Z' }),
        absence({
          absenceId: 'over',
          startDate: '2030-06-01T00:00:00.000Z',
          endDate: '2030-06-10T00:00:00.000Z',
        }),
      ],
      NOW,
    );
    expect(desired.get('CERTIFICATIONS')).toMatchObject({ absenceId: 'july', reassignedToId: 'd' });
    expect(desired.get('ACCESS_REQUESTS')).toMatchObject({ absenceId: 'december', reassignedToId: 'x' });
    expect(desired.get('MANUAL_TASKS')?.absenceId).toBe('december');
  });

  it('an absence without a resolved delegate (window over on arrival) holds nothing', () => {
    expect(desiredConfigurations([absence({ delegateId: null })], NOW).size).toBe(0);
  });
});

describe('matching what SailPoint holds', () => {
  const desired = {
    absenceId: 'a',
    reassignedToId: 'd',
    startDate: '2030-07-01T00:00:00.000Z',
    endDate: '2030-07-20T00:00:00.000Z',
  };

  it('sends now (to the second) as the start of an absence that has begun, its own start otherwise', () => {
    expect(requestStartDate(desired, new Date('2030-07-10T12:00:00.500Z'))).toBe('2030-07-10T12:00:00.000Z');
    expect(requestStartDate(desired, new Date('2030-06-01T00:00:00Z'))).toBe('2030-07-01T00:00:00.000Z');
  });

  it('accepts a start between the absence start and now, the same delegate and the same end', () => {
    const held = { reassignedToId: 'd', startDate: '2030-07-05T09:00:00Z', endDate: '2030-07-20T00:00:00Z' };
    expect(configurationMatches(held, desired, NOW)).toBe(true);
    expect(configurationMatches({ ...held, reassignedToId: 'e' }, desired, NOW)).toBe(false);
    expect(configurationMatches({ ...held, endDate: '2030-07-25T00:00:00Z' }, desired, NOW)).toBe(false);
    expect(configurationMatches({ ...held, endDate: null }, desired, NOW)).toBe(false);
    expect(configurationMatches({ ...held, startDate: '2030-06-30T00:00:00Z' }, desired, NOW)).toBe(false);
    expect(configurationMatches({ ...held, startDate: '2030-07-11T00:00:00Z' }, desired, NOW)).toBe(false);
    expect(configurationMatches({ ...held, endDate: null }, { ...desired, endDate: null }, NOW)).toBe(true);
  });

  it('recognises only configurations whose delegate one of the person’s absences resolved', () => {
    const absences = [absence({ delegateHistory: ['d', 'old'] })];
    expect(createdByUs({ reassignedToId: 'old', startDate: undefined, endDate: null }, absences)).toBe(true);
    expect(
      createdByUs({ reassignedToId: 'someone-else', startDate: undefined, endDate: null }, absences),
    ).toBe(false);
  });
});
