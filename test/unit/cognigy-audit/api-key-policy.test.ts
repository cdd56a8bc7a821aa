import type { CognigyApiKey } from '../../../functions/shared/cognigy';
import {
  DEFAULT_API_KEY_POLICY,
  identifyOwnKey,
  previewMatches,
  reviewApiKeys,
} from '../../../functions/cognigy-audit/api-key-policy';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const DAY = 86_400;
const OWN_SECRET = 'abcd1234567890efgh';

const key = (id: string, ageDays: number, extra: Partial<CognigyApiKey> = {}): CognigyApiKey => ({
  id,
  name: id,
  createdAt: Math.floor(NOW / 1000) - ageDays * DAY,
  ...extra,
});

describe('reviewApiKeys: age', () => {
  const own = { identified: true, keyId: 'own', method: 'configured-id' } as const;

  it.each([
    [74, undefined],
    [75, 'warning'],
    [89, 'warning'],
    [90, 'flagged'],
    [400, 'flagged'],
  ])('a key %i days old → %s', (age, level) => {
    const review = reviewApiKeys([key('own', age)], own, DEFAULT_API_KEY_POLICY, NOW);
    expect(review.ages[0]?.level).toBe(level);
    expect(review.multipleActive).toBeUndefined();
  });

  it('counts whole days: 74 days and 23 hours is not 75', () => {
    const createdAt = Math.floor(NOW / 1000) - 75 * DAY + 3600;
    expect(reviewApiKeys([{ id: 'k', createdAt }], own, DEFAULT_API_KEY_POLICY, NOW).ages).toEqual([]);
  });

  it('marks the automation’s own old key as its own (rotate, never “unused”)', () => {
    const review = reviewApiKeys([key('own', 95)], own, DEFAULT_API_KEY_POLICY, NOW);
    expect(review.ages[0]).toMatchObject({ ownKey: true, level: 'flagged', ageDays: 95 });
  });

  it('treats a createdAt in the future (clock skew) as age 0', () => {
    expect(reviewApiKeys([key('own', -3)], own, DEFAULT_API_KEY_POLICY, NOW).ages).toEqual([]);
  });
});

describe('reviewApiKeys: more than one active key', () => {
  it('flags a second key and proposes only the other one, never the automation’s', () => {
    const review = reviewApiKeys(
      [key('own', 10), key('spare', 3)],
      { identified: true, keyId: 'own', method: 'key-preview' },
      DEFAULT_API_KEY_POLICY,
      NOW,
    );
    expect(review.multipleActive?.notUsedByAutomation).toEqual(['spare']);
    expect(review.multipleActive?.keys.find((k) => k.key.id === 'own')?.ownKey).toBe(true);
  });

  it('names no key as unused when the automation’s key is unknown', () => {
    const review = reviewApiKeys(
      [key('a', 10), key('b', 3)],
      { identified: false, reason: 'no preview' },
      DEFAULT_API_KEY_POLICY,
      NOW,
    );
    expect(review.multipleActive?.notUsedByAutomation).toEqual([]);
    expect(review.multipleActive?.keys.every((k) => !k.ownKey)).toBe(true);
  });

  it('allows up to maxActiveKeys', () => {
    const review = reviewApiKeys(
      [key('a', 1), key('b', 1)],
      { identified: false, reason: 'x' },
      { ...DEFAULT_API_KEY_POLICY, maxActiveKeys: 2 },
      NOW,
    );
    expect(review.multipleActive).toBeUndefined();
  });
});

describe('identifyOwnKey', () => {
  const keys = [
    key('k1', 1, { keyPreview: 'abcd••••••••efgh' }),
    key('k2', 1, { keyPreview: 'zzzz••••••••yyyy' }),
  ];

  it('uses the configured key id first', () => {
    expect(identifyOwnKey(keys, { configuredKeyId: 'k2', apiKey: OWN_SECRET })).toEqual({
      identified: true,
      keyId: 'k2',
      method: 'configured-id',
    });
  });

  it('says so when the configured id is not among the keys (and does not guess)', () => {
    const own = identifyOwnKey(keys, { configuredKeyId: 'gone', apiKey: OWN_SECRET });
    expect(own).toEqual({ identified: false, reason: expect.stringContaining('COGNIGY_API_KEY_ID gone') });
  });

  it('matches the masked preview against the key held in memory', () => {
    expect(identifyOwnKey(keys, { apiKey: OWN_SECRET })).toEqual({
      identified: true,
      keyId: 'k1',
      method: 'key-preview',
    });
  });

  it('refuses an ambiguous preview', () => {
    const twins = [key('a', 1, { keyPreview: 'abcd••••efgh' }), key('b', 1, { keyPreview: 'abcd••••efgh' })];
    expect(identifyOwnKey(twins, { apiKey: OWN_SECRET }).identified).toBe(false);
  });

  it('does not identify anything without previews', () => {
    expect(identifyOwnKey([key('a', 1)], { apiKey: OWN_SECRET }).identified).toBe(false);
  });

  it.each([
    ['abcd••••efgh', true],
    ['abcd…efgh', true],
    ['abcd••••efgX', false],
    ['abcd1234567890efgh', false], // no mask: not a preview
    ['ab••••gh', false], // too short to mean anything
  ])('preview %s matches the key: %s', (preview, expected) => {
    expect(previewMatches(preview, OWN_SECRET)).toBe(expected);
  });
});
