import { matchesPattern, UnsupportedPatternError } from '../../../sandbox/events/event-pattern';

const event = {
  source: 'aws.partner/sailpoint.com/abc/idn/identity-deleted',
  'detail-type': 'idn:identity-deleted',
  detail: { identity: { id: 'x' }, changes: [{ attribute: 'a' }, { attribute: 'b' }] },
};

describe('EventBridge pattern matching (local router)', () => {
  it('matches exact values, alternatives, prefixes, suffixes, wildcards and nested arrays of objects', () => {
    expect(matchesPattern({ source: [event.source] }, event)).toBe(true);
    expect(matchesPattern({ source: ['other', event.source] }, event)).toBe(true);
    expect(matchesPattern({ source: ['aws.partner/sailpoint.com/abc/idn/identity-created'] }, event)).toBe(
      false,
    );
    expect(matchesPattern({ source: [{ prefix: 'aws.partner/sailpoint.com' }] }, event)).toBe(true);
    expect(matchesPattern({ source: [{ suffix: '/idn/identity-deleted' }] }, event)).toBe(true);
    expect(
      matchesPattern({ source: [{ wildcard: 'aws.partner/sailpoint.com*/idn/identity-*' }] }, event),
    ).toBe(true);
    expect(matchesPattern({ detail: { changes: { attribute: ['b'] } } }, event)).toBe(true);
    expect(matchesPattern({ detail: { changes: { attribute: ['c'] } } }, event)).toBe(false);
    expect(matchesPattern({ detail: { identity: { id: [{ exists: true }] } } }, event)).toBe(true);
    expect(matchesPattern({ detail: { missing: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ 'detail-type': [{ 'anything-but': ['idn:identity-created'] }] }, event)).toBe(
      true,
    );
    expect(matchesPattern({ source: [event.source], 'detail-type': ['x'] }, event)).toBe(false);
  });

  it('refuses what it cannot judge instead of calling it no match', () => {
    expect(() => matchesPattern({ source: [{ numeric: ['>', 1] }] }, event)).toThrow(UnsupportedPatternError);
    expect(() => matchesPattern({ source: [] }, event)).toThrow(UnsupportedPatternError);
  });
});
