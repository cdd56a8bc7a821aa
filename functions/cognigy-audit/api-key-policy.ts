/**
 * API-key age policy. Cognigy keys have no last-used field, so the policy is age-based:
 * - a key at least `warnAfterDays` old is a warning, at least `flagAfterDays` old is flagged
 *   (rotate it);
 * - more than `maxActiveKeys` keys on the credential is flagged: every key is a way in, and only
 *   one is the automation's.
 *
 * The key the automation itself uses is never called "unused" and never proposed for revocation;
 * when it is too old the finding says to rotate it. Identifying it (see identifyOwnKey): the key id
 * configured in COGNIGY_API_KEY_ID wins; otherwise the masked `keyPreview` Cognigy returns (first and
 * last characters) is matched in memory against the key we hold — never logged or stored. When
 * neither identifies exactly one key, no key is called unused.
 */
import type { CognigyApiKey } from '../shared/cognigy';

export interface ApiKeyPolicy {
  readonly warnAfterDays: number;
  readonly flagAfterDays: number;
  readonly maxActiveKeys: number;
}

export const DEFAULT_API_KEY_POLICY: ApiKeyPolicy = Object.freeze({
  warnAfterDays: 75,
  flagAfterDays: 90,
  maxActiveKeys: 1,
});

export type OwnKey =
  | { readonly identified: true; readonly keyId: string; readonly method: 'configured-id' | 'key-preview' }
  | { readonly identified: false; readonly reason: string };

const DAY_MS = 86_400_000;

/**
 * Which listed key is the one the automation authenticates with. `apiKey` is compared in memory only.
 */
export function identifyOwnKey(
  keys: readonly CognigyApiKey[],
  input: { configuredKeyId?: string; apiKey: string },
): OwnKey {
  if (input.configuredKeyId) {
    return keys.some((k) => k.id === input.configuredKeyId)
      ? { identified: true, keyId: input.configuredKeyId, method: 'configured-id' }
      : {
          identified: false,
          reason: `COGNIGY_API_KEY_ID ${input.configuredKeyId} is not among the credential's keys`,
        };
  }
  const matches = keys.filter(
    (k) => k.keyPreview !== undefined && previewMatches(k.keyPreview, input.apiKey),
  );
  if (matches.length === 1) return { identified: true, keyId: matches[0]!.id, method: 'key-preview' };
  return {
    identified: false,
    reason:
      matches.length > 1
        ? 'several keys share the preview of the key in use; set COGNIGY_API_KEY_ID'
        : 'no key preview matches the key in use; set COGNIGY_API_KEY_ID',
  };
}

/** '8a4f••••••••7c2e' matches a key that starts with '8a4f' and ends with '7c2e'. */
export function previewMatches(preview: string, apiKey: string): boolean {
  const head = /^[A-Za-z0-9_-]+/.exec(preview)?.[0] ?? '';
  const tail = /[A-Za-z0-9_-]+$/.exec(preview)?.[0] ?? '';
  // A preview without a mask is not a preview; too few characters would match by chance.
  if (head === preview || head.length < 3 || tail.length < 3) return false;
  return apiKey.length >= head.length + tail.length && apiKey.startsWith(head) && apiKey.endsWith(tail);
}

export interface KeyAgeVerdict {
  readonly key: CognigyApiKey;
  readonly ageDays: number;
  readonly level: 'warning' | 'flagged';
  /** The automation's own key: rotate, never "unused". */
  readonly ownKey: boolean;
}

export interface MultipleActiveKeysVerdict {
  readonly keys: readonly { readonly key: CognigyApiKey; readonly ownKey: boolean }[];
  /** Keys other than the automation's: candidates to revoke. Empty when the own key is unknown. */
  readonly notUsedByAutomation: readonly string[];
}

export interface ApiKeyReview {
  readonly ages: readonly KeyAgeVerdict[];
  readonly multipleActive?: MultipleActiveKeysVerdict;
  readonly ownKey: OwnKey;
}

export function ageInDays(createdAtSeconds: number, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - createdAtSeconds * 1000) / DAY_MS));
}

export function reviewApiKeys(
  keys: readonly CognigyApiKey[],
  ownKey: OwnKey,
  policy: ApiKeyPolicy,
  nowMs: number,
): ApiKeyReview {
  const isOwn = (key: CognigyApiKey) => ownKey.identified && ownKey.keyId === key.id;
  const ages: KeyAgeVerdict[] = [];
  for (const key of keys) {
    const ageDays = ageInDays(key.createdAt, nowMs);
    const level =
      ageDays >= policy.flagAfterDays ? 'flagged' : ageDays >= policy.warnAfterDays ? 'warning' : undefined;
    if (level) ages.push({ key, ageDays, level, ownKey: isOwn(key) });
  }
  const multipleActive: MultipleActiveKeysVerdict | undefined =
    keys.length > policy.maxActiveKeys
      ? {
          keys: keys.map((key) => ({ key, ownKey: isOwn(key) })),
          notUsedByAutomation: ownKey.identified ? keys.filter((k) => !isOwn(k)).map((k) => k.id) : [],
        }
      : undefined;
  return { ages, multipleActive, ownKey };
}
