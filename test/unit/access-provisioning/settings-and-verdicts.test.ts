import { ConfigError } from '../../../functions/shared/config';
import { unknownIdentityVerdict } from '../../../functions/access-provisioning/failure-policy';
import { verdictOf } from '../../../functions/access-provisioning/outcomes';
import {
  loadAccessProvisioningSettings,
  perInstanceRequestsPer10s,
  processorSettings,
} from '../../../functions/access-provisioning/settings';

const required = {
  ACCESS_REQUESTS_TABLE: 'AccessRequests',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/intake',
  DEAD_LETTER_QUEUE_URL: 'http://sqs.us-east-1.127.0.0.1:4566/000000000000/dlq',
};

describe('access-provisioning settings', () => {
  it('names every missing or bad setting', () => {
    let error: unknown;
    try {
      loadAccessProvisioningSettings({ QUEUE_URL: 'not a url', DEDUP_WINDOW_HOURS: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.setting).sort()).toEqual([
      'ACCESS_REQUESTS_TABLE',
      'DEAD_LETTER_QUEUE_URL',
      'DEDUP_WINDOW_HOURS',
      'QUEUE_URL',
    ]);
  });

  it('has the documented defaults', () => {
    const settings = loadAccessProvisioningSettings(required);
    expect(processorSettings(settings)).toEqual({
      dedupWindowMs: 7 * 86_400_000,
      claimLeaseMs: 900_000,
      statusSettleMs: 60_000,
      conflictRetrySeconds: 300,
      transientRetrySeconds: 30,
      inFlightRetrySeconds: 10,
      maxRetryAfterSeconds: 900,
      maxRecipients: 50,
      maxItems: 25,
      maxUnitsPerMessage: 250,
      unknownIdentityWindowMs: 20 * 60_000,
      outcomeRetentionMs: 30 * 86_400_000,
      maxReceiveCount: 5,
      concurrency: 8,
      timeReserveMs: 10_000,
      requestsPer10s: 40,
      identitiesPerSearch: 250,
    });
  });

  it('splits the deployment-wide rate budget across the maximum concurrency', () => {
    const per = (env: Record<string, string>) =>
      perInstanceRequestsPer10s(loadAccessProvisioningSettings({ ...required, ...env }));
    expect(per({})).toBe(40); // 80 / 2
    expect(per({ SAILPOINT_RATE_BUDGET_PER_10S: '90', ACCESS_MAX_CONCURRENCY: '4' })).toBe(22);
    expect(per({ SAILPOINT_RATE_BUDGET_PER_10S: '3', ACCESS_MAX_CONCURRENCY: '5' })).toBe(1);
    expect(per({ SAILPOINT_RATE_BUDGET_PER_10S: '0' })).toBe(0); // limiter off
    expect(per({ SAILPOINT_REQUESTS_PER_10S: '7' })).toBe(7); // explicit per-instance value wins
  });

  it("plans for the credential's shared budget over this queue's instances when the stack shares it", () => {
    const per = (env: Record<string, string>) =>
      perInstanceRequestsPer10s(loadAccessProvisioningSettings({ ...required, ...env }));
    const shared = { SAILPOINT_RATE_BUDGET_TABLE: 'budget', SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: '95' };
    // The guaranteed share (13 of 95 over 6 callers) is not what a chunk is planned for: the backlog
    // is coalesced for what the instance gets while the other workflows are idle.
    expect(per({ ...shared, SAILPOINT_REQUESTS_PER_10S: '13' })).toBe(47);
    expect(per({ ...shared, ACCESS_MAX_CONCURRENCY: '4' })).toBe(23);
    // Without the table the budget is not shared: the instance's own limit.
    expect(per({ SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: '95', SAILPOINT_REQUESTS_PER_10S: '13' })).toBe(13);
  });
});

describe('message verdicts from unit outcomes', () => {
  it('dead-letters on an invalid or failed unit, with every distinct reason', () => {
    expect(
      verdictOf([
        { kind: 'submitted', detail: 'ok' },
        { kind: 'failed', detail: 'SailPoint refused it: A' },
        { kind: 'failed', detail: 'SailPoint refused it: A' },
        { kind: 'retrying', detail: 'later' },
      ]),
    ).toEqual({
      status: 'failed',
      reason: 'SailPoint refused it: A',
      queue: { status: 'dead-letter', reason: 'SailPoint refused it: A' },
    });
  });

  it('retries when any unit must wait, after the longest delay asked for', () => {
    expect(
      verdictOf([
        { kind: 'submitted', detail: 'ok' },
        { kind: 'retrying', detail: 'rate limited', delaySeconds: 7 },
        { kind: 'waiting', detail: 'waiting for GRANT', delaySeconds: 300 },
      ]),
    ).toEqual({
      status: 'retrying',
      reason: 'rate limited; waiting for GRANT',
      queue: { status: 'retry', reason: 'rate limited; waiting for GRANT', delaySeconds: 300 },
    });
  });

  it('is done otherwise, named by the most significant unit outcome', () => {
    expect(
      verdictOf([
        { kind: 'duplicate', detail: 'd' },
        { kind: 'already-held', detail: 'h' },
      ]),
    ).toEqual({ status: 'already-held', queue: { status: 'done', detail: '1 duplicate, 1 already-held' } });
    expect(verdictOf([{ kind: 'duplicate', detail: 'd' }]).status).toBe('duplicate');
  });
});

describe('an identity Search does not know', () => {
  const settings = { unknownIdentityWindowMs: 15 * 60_000, maxReceiveCount: 5 };
  const sent = Date.parse('2030-01-01T00:00:00Z');

  it('is retried with doubling delays that span the window over the receives left', () => {
    const first = unknownIdentityVerdict({ sentAt: sent, receiveCount: 1 }, 'i1', sent, settings);
    expect(first).toMatchObject({ delaySeconds: 60 }); // 1 + 2 + 4 + 8 minutes
    const third = unknownIdentityVerdict(
      { sentAt: sent, receiveCount: 3 },
      'i1',
      sent + 3 * 60_000,
      settings,
    );
    expect(third).toMatchObject({ delaySeconds: 240 }); // 4 + 8 minutes left
    expect('retry' in first && first.retry).toContain('retrying until 2030-01-01T00:15:00.000Z');
  });

  it('makes the message invalid after the window or on its last receive', () => {
    expect(
      unknownIdentityVerdict({ sentAt: sent, receiveCount: 2 }, 'i1', sent + 16 * 60_000, settings),
    ).toEqual({
      invalid:
        'invalid message: unknown identity i1 (SailPoint Search has no such identity, 16 min after the message was sent)',
    });
    expect(
      unknownIdentityVerdict({ sentAt: sent, receiveCount: 5 }, 'i1', sent + 60_000, settings),
    ).toHaveProperty('invalid');
    expect(
      unknownIdentityVerdict({ sentAt: sent, receiveCount: 1 }, 'i1', sent, {
        ...settings,
        unknownIdentityWindowMs: 0,
      }),
    ).toEqual({ invalid: 'invalid message: unknown identity i1 (SailPoint Search has no such identity)' });
  });
});
