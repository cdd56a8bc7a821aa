/** Invocation payloads of the scheduled functions: bounded and strict (functions/shared/invocation.ts). */
import { parseDeferredRecheckEvent } from '../../../functions/absence-reassignment/recheck';
import { parseAuditEvent } from '../../../functions/cognigy-audit/handler';
import { PermanentMessageError } from '../../../functions/shared/failure-policy';
import { MAX_INVOCATION_BYTES } from '../../../functions/shared/invocation';
import { parseSweepEvent } from '../../../functions/stale-token-sweep/handler';

const PARSERS = {
  'stale-token sweep': parseSweepEvent,
  'Cognigy audit': parseAuditEvent,
  'absence re-check': parseDeferredRecheckEvent,
} as const;

const scheduled = {
  version: '0',
  id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2030-01-01T06:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/daily'],
  detail: {},
};

describe('invocation payloads', () => {
  it.each(Object.entries(PARSERS))('%s: a payload over 4 KiB is refused before it is read', (_, parse) => {
    const padded = { task: 'recheck-deferred', trigger: 'x'.repeat(MAX_INVOCATION_BYTES) };
    expect(() => parse(padded)).toThrow(PermanentMessageError);
    expect(() => parse(padded)).toThrow(/the payload is \d+ bytes; at most 4096 are accepted/);
  });

  it.each(Object.entries(PARSERS))('%s: an unknown key is refused, never ignored', (_, parse) => {
    expect(() => parse({ task: 'recheck-deferred', dry_run: true })).toThrow(
      /Unrecognized keys?: .*"dry_run"/,
    );
  });

  it('the sweep and the audit take an EventBridge rule’s scheduled event, every field bounded', () => {
    expect(parseSweepEvent(scheduled)).toEqual({ dryRun: false });
    expect(parseAuditEvent(scheduled)).toBe('schedule');
    expect(() => parseSweepEvent({ ...scheduled, resources: Array(11).fill('arn') })).toThrow(
      /resources: must list at most 10 resources/,
    );
    expect(() => parseAuditEvent({ ...scheduled, source: 's'.repeat(257) })).toThrow(
      /source: must be at most 256 characters/,
    );
  });

  it('the audit’s trigger is a short label', () => {
    expect(parseAuditEvent({ trigger: 'iga' })).toBe('iga');
    expect(parseAuditEvent({})).toBe('on-demand');
    expect(() => parseAuditEvent({ trigger: 'a b' })).toThrow(/trigger: must be a label of at most 64/);
    expect(() => parseAuditEvent('run please')).toThrow(/must be a JSON object/);
  });
});
