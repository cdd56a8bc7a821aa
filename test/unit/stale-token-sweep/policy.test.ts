import {
  DAY_MS,
  assessToken,
  graceElapsed,
  idleCutoff,
  wholeDaysSince,
  type StaleTokenPolicy,
  type TokenView,
} from '../../../functions/stale-token-sweep/policy';
import {
  compileExemption,
  exemptionsSchema,
  globToRegExp,
} from '../../../functions/stale-token-sweep/exemptions';
import { parseStaleTokenSweepSettings } from '../../../functions/stale-token-sweep/settings';
import { ConfigError } from '../../../functions/shared/config';

const NOW = Date.parse('2025-06-15T12:00:00.000Z');
const HOUR_MS = 3_600_000;
const ago = (ms: number) => new Date(NOW - ms).toISOString();

const policy = (overrides: Partial<StaleTokenPolicy> = {}): StaleTokenPolicy => ({
  staleAfterDays: 90,
  warnAfterDays: 75,
  neverUsedAfterDays: 30,
  includeManaged: false,
  exemptions: [],
  revocation: { enabled: false, graceDays: 14 },
  ...overrides,
});

const token = (overrides: Partial<TokenView> = {}): TokenView => ({
  id: 'pat-1',
  name: 'ci-deploy',
  owner: { id: 'owner-1', name: 'Ada' },
  created: ago(400 * DAY_MS),
  lastUsed: ago(DAY_MS),
  managed: false,
  ...overrides,
});

describe('stale-token policy: one-day rule at the thresholds', () => {
  it.each([
    // [elapsed since lastUsed, expected outcome, elapsed ms]
    ['90 days', 'warn', 90 * DAY_MS],
    ['90 days 23 h 59 m 59.999 s (one-day tolerance)', 'warn', 91 * DAY_MS - 1],
    ['exactly 91 days', 'flag', 91 * DAY_MS],
    ['400 days', 'flag', 400 * DAY_MS],
  ])('lastUsed %s ago → %s', (_label, outcome, elapsed) => {
    const result = assessToken(token({ lastUsed: ago(elapsed) }), policy(), NOW);
    expect(result.outcome).toBe(outcome);
  });

  it.each([
    ['75 days', 'ok', 75 * DAY_MS],
    ['76 days minus 1 ms', 'ok', 76 * DAY_MS - 1],
    ['exactly 76 days', 'warn', 76 * DAY_MS],
  ])('warning tier: lastUsed %s ago → %s', (_label, outcome, elapsed) => {
    expect(assessToken(token({ lastUsed: ago(elapsed) }), policy(), NOW).outcome).toBe(outcome);
  });

  it('reports the verdict and whole days', () => {
    expect(assessToken(token({ lastUsed: ago(91 * DAY_MS + 5 * HOUR_MS) }), policy(), NOW)).toEqual({
      outcome: 'flag',
      verdict: 'stale',
      days: 91,
      expiredExemptions: [],
    });
    expect(assessToken(token({ lastUsed: ago(80 * DAY_MS) }), policy(), NOW)).toMatchObject({
      outcome: 'warn',
      verdict: 'idle',
      days: 80,
    });
  });

  it('without a warning tier, idle tokens below the stale threshold are fine', () => {
    const noWarn = policy({ warnAfterDays: undefined });
    expect(assessToken(token({ lastUsed: ago(89 * DAY_MS) }), noWarn, NOW).outcome).toBe('ok');
    expect(assessToken(token({ lastUsed: ago(91 * DAY_MS) }), noWarn, NOW).outcome).toBe('flag');
  });

  it('a lastUsed in the future (clock skew) counts as used now', () => {
    expect(wholeDaysSince(new Date(NOW + HOUR_MS).toISOString(), NOW)).toBe(0);
    expect(
      assessToken(token({ lastUsed: new Date(NOW + HOUR_MS).toISOString() }), policy(), NOW).outcome,
    ).toBe('ok');
  });
});

describe('stale-token policy: never used', () => {
  it.each([
    ['30 days', 'ok', 30 * DAY_MS],
    ['31 days minus 1 ms', 'ok', 31 * DAY_MS - 1],
    ['exactly 31 days', 'flag', 31 * DAY_MS],
  ])('created %s ago, never used → %s', (_label, outcome, elapsed) => {
    const result = assessToken(token({ lastUsed: null, created: ago(elapsed) }), policy(), NOW);
    expect(result.outcome).toBe(outcome);
    if (outcome === 'flag') expect(result).toMatchObject({ verdict: 'never-used', days: 31 });
  });

  it('a never-used token has no warning tier: it is fine until flagged', () => {
    expect(assessToken(token({ lastUsed: null, created: ago(20 * DAY_MS) }), policy(), NOW).outcome).toBe(
      'ok',
    );
  });

  it('an unreadable date is reported, not guessed', () => {
    expect(assessToken(token({ lastUsed: null, created: 'yesterday' }), policy(), NOW)).toEqual({
      outcome: 'unreadable',
      problem: 'token pat-1: created "yesterday" is not a date-time',
    });
  });
});

describe('stale-token policy: managed tokens and exemptions', () => {
  const stale = ago(200 * DAY_MS);

  it('excludes managed tokens unless configured', () => {
    expect(assessToken(token({ lastUsed: stale, managed: true }), policy(), NOW).outcome).toBe(
      'excluded-managed',
    );
    expect(
      assessToken(token({ lastUsed: stale, managed: true }), policy({ includeManaged: true }), NOW).outcome,
    ).toBe('flag');
  });

  it.each([
    [{ tokenId: 'pat-1', reason: 'break-glass' }],
    [{ ownerId: 'owner-1', reason: 'service account' }],
    [{ namePattern: 'CI-*', reason: 'pipelines rotate their own' }],
    [{ namePattern: 'ci-deplo?', reason: 'one character' }],
  ])('exempts by %j', (config) => {
    const exemption = compileExemption(config);
    const result = assessToken(token({ lastUsed: stale }), policy({ exemptions: [exemption] }), NOW);
    expect(result).toMatchObject({ outcome: 'exempt', would: 'flag', verdict: 'stale', exemption });
  });

  it('exempts a warning too, and reports what it would have been', () => {
    const exemption = compileExemption({ ownerId: 'owner-1', reason: 'svc' });
    const result = assessToken(
      token({ lastUsed: ago(80 * DAY_MS) }),
      policy({ exemptions: [exemption] }),
      NOW,
    );
    expect(result).toMatchObject({ outcome: 'exempt', would: 'warn', verdict: 'idle' });
  });

  it('does not match other tokens', () => {
    const exemptions = [
      compileExemption({ tokenId: 'pat-2', reason: 'x' }),
      compileExemption({ ownerId: 'owner-2', reason: 'x' }),
      compileExemption({ namePattern: 'ci', reason: 'whole name only' }),
    ];
    expect(assessToken(token({ lastUsed: stale }), policy({ exemptions }), NOW).outcome).toBe('flag');
  });

  it('an expired exemption stops protecting, and is reported', () => {
    const expired = compileExemption({
      tokenId: 'pat-1',
      reason: 'migration',
      expires: '2025-06-15T11:59:59Z',
    });
    const result = assessToken(token({ lastUsed: stale }), policy({ exemptions: [expired] }), NOW);
    expect(result).toMatchObject({ outcome: 'flag', expiredExemptions: [expired] });
  });

  it('a date-only expiry protects through the end of that UTC day', () => {
    const today = compileExemption({ tokenId: 'pat-1', reason: 'x', expires: '2025-06-15' });
    const yesterday = compileExemption({ tokenId: 'pat-1', reason: 'x', expires: '2025-06-14' });
    const lastMsOfDay = Date.parse('2025-06-15T23:59:59.999Z');
    const t = token({ lastUsed: stale });
    expect(assessToken(t, policy({ exemptions: [today] }), lastMsOfDay).outcome).toBe('exempt');
    expect(assessToken(t, policy({ exemptions: [today] }), lastMsOfDay + 1).outcome).toBe('flag');
    expect(assessToken(t, policy({ exemptions: [yesterday] }), NOW).outcome).toBe('flag');
  });

  it('the most specific active exemption is the one reported', () => {
    const byName = compileExemption({ namePattern: '*', reason: 'all' });
    const byId = compileExemption({ tokenId: 'pat-1', reason: 'this one' });
    const result = assessToken(token({ lastUsed: stale }), policy({ exemptions: [byName, byId] }), NOW);
    expect(result).toMatchObject({ outcome: 'exempt', exemption: { reason: 'this one' } });
  });

  it('glob metacharacters other than * and ? are literal', () => {
    expect(globToRegExp('a.b(c)+').test('a.b(c)+')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('exemption settings schema', () => {
  it('accepts each kind with reason and optional expiry', () => {
    expect(
      exemptionsSchema.safeParse([
        { tokenId: 't', reason: 'r' },
        { ownerId: 'o', reason: 'r', expires: '2025-12-31' },
        { namePattern: 'ci-*', reason: 'r', expires: '2025-12-31T18:00:00+02:00' },
      ]).success,
    ).toBe(true);
  });

  it.each([
    [[{ tokenId: 't' }], 'reason is required'],
    [[{ tokenId: 't', reason: '  ' }], 'reason is required'],
    [[{ reason: 'r' }], 'exactly one of tokenId, ownerId, namePattern'],
    [[{ tokenId: 't', ownerId: 'o', reason: 'r' }], 'exactly one of tokenId, ownerId, namePattern'],
    [[{ tokenId: 't', reason: 'r', expires: 'next week' }], 'expires must be an ISO date'],
    [[{ tokenId: 't', reason: 'r', expires: '2025-12-31T18:00:00' }], 'expires must be an ISO date'],
    [[{ tokenId: 't', reason: 'r', note: 'typo' }], 'note'],
  ])('refuses %j', (value, message) => {
    const result = exemptionsSchema.safeParse(value);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });

  it.each(['2025-02-30', '2025-06-31', '2025-02-29', '2025-04-31T23:00:00Z', '2025-13-01', '2025-06-00'])(
    'refuses the expiry %s, a date that does not exist, instead of rolling it forward',
    (expires) => {
      const result = exemptionsSchema.safeParse([{ tokenId: 't', reason: 'r', expires }]);
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain('is not a calendar date');
    },
  );

  it('accepts a leap day in a leap year', () => {
    const result = exemptionsSchema.safeParse([{ tokenId: 't', reason: 'r', expires: '2024-02-29' }]);
    expect(result.success).toBe(true);
    expect(compileExemption(result.data![0]!).expiresAtMs).toBe(Date.parse('2024-03-01T00:00:00Z'));
  });

  it('a non-existent expiry stops the function at start with a ConfigError naming the setting', () => {
    const env = {
      FINDINGS_TABLE: 'findings',
      NOTIFICATIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t',
      STALE_TOKEN_EXEMPTIONS: '[{"tokenId": "t", "reason": "r", "expires": "2025-06-31"}]',
    };
    expect(() => parseStaleTokenSweepSettings(env)).toThrow(ConfigError);
    expect(() => parseStaleTokenSweepSettings(env)).toThrow(
      /STALE_TOKEN_EXEMPTIONS\.0\.expires: .*2025-06-31 is not a calendar date/,
    );
  });
});

describe('fetch cut-off and revocation grace', () => {
  it('the lastUsed cut-off is threshold + 1 days, so `le` selects exactly what the policy acts on', () => {
    const cutoff = idleCutoff(policy(), NOW);
    expect(cutoff).toBe(ago(76 * DAY_MS));
    expect(assessToken(token({ lastUsed: cutoff }), policy(), NOW).outcome).toBe('warn');
    expect(assessToken(token({ lastUsed: ago(76 * DAY_MS - 1) }), policy(), NOW).outcome).toBe('ok');
    expect(idleCutoff(policy({ warnAfterDays: undefined }), NOW)).toBe(ago(91 * DAY_MS));
  });

  it('grace counts whole days since first flagged', () => {
    const p = policy({ revocation: { enabled: true, graceDays: 14 } });
    expect(graceElapsed(ago(14 * DAY_MS - 1), p, NOW)).toBe(false);
    expect(graceElapsed(ago(14 * DAY_MS), p, NOW)).toBe(true);
    expect(graceElapsed(ago(0), policy({ revocation: { enabled: true, graceDays: 0 } }), NOW)).toBe(true);
  });
});
