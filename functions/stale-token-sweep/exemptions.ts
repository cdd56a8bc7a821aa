/**
 * Exemptions: tokens the sweep must leave alone, each with a reason and an optional expiry.
 *
 * Configured as JSON (STALE_TOKEN_EXEMPTIONS), one object per exemption naming exactly one of
 *   { "tokenId": "…" }        one token
 *   { "ownerId": "…" }        every token of one identity (e.g. a service account)
 *   { "namePattern": "ci-*" } tokens whose name matches a glob: `*` any run of characters, `?` one
 *                             character, case-insensitive, matched against the whole name
 * plus "reason" (required, shown in findings and reports) and "expires" (optional): an ISO date
 * ("2025-06-30", protecting through the end of that UTC day) or date-time. An expired exemption
 * stops protecting; the sweep then treats the token like any other.
 *
 * Globs rather than regular expressions: they say what operators mean ("ci-*"), need no escaping
 * in JSON and cannot be written to run for ever.
 */
import * as z from 'zod';

const DAY_MS = 86_400_000;
const ISO_DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const expiresSchema = z.string().superRefine((v, ctx) => {
  if (!ISO_DATE_ONLY.test(v) && !ISO_DATE_TIME.test(v)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expires must be an ISO date (2025-06-30) or date-time with a zone (2025-06-30T18:00:00Z)',
    });
  } else if (!isCalendarDate(v.slice(0, 10)) || Number.isNaN(Date.parse(v))) {
    // Date.parse rolls 2025-06-31 over to July 1st: a typo would silently move the expiry.
    ctx.addIssue({ code: 'custom', message: `expires ${v} is not a calendar date` });
  }
});

/** True when YYYY-MM-DD names a day that exists (no 2025-02-30, no 2025-06-31). */
function isCalendarDate(ymd: string): boolean {
  const [year, month, day] = ymd.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export const exemptionSchema = z
  .strictObject({
    tokenId: z.string().min(1).optional(),
    ownerId: z.string().min(1).optional(),
    namePattern: z.string().min(1).optional(),
    reason: z.string({ error: 'reason is required' }).trim().min(1, { error: 'reason is required' }),
    expires: expiresSchema.optional(),
  })
  .refine((e) => [e.tokenId, e.ownerId, e.namePattern].filter((v) => v !== undefined).length === 1, {
    error: 'each exemption names exactly one of tokenId, ownerId, namePattern',
  });

export const exemptionsSchema = z.array(exemptionSchema);

export type ExemptionConfig = z.infer<typeof exemptionSchema>;

export type ExemptionKind = 'tokenId' | 'ownerId' | 'namePattern';

/** An exemption ready to match: its kind, the configured value and the instant it stops protecting. */
export interface Exemption {
  readonly kind: ExemptionKind;
  readonly value: string;
  readonly reason: string;
  /** Epoch ms from which the exemption no longer protects; undefined: never expires. */
  readonly expiresAtMs?: number;
  /** As configured, for reports. */
  readonly expires?: string;
  readonly matches: (token: ExemptableToken) => boolean;
}

export interface ExemptableToken {
  readonly id: string;
  readonly name: string;
  readonly owner: { readonly id: string };
}

export function compileExemption(config: ExemptionConfig): Exemption {
  const expires = config.expires;
  const expiresAtMs =
    expires === undefined
      ? undefined
      : ISO_DATE_ONLY.test(expires)
        ? Date.parse(`${expires}T00:00:00Z`) + DAY_MS // a date protects through its whole UTC day
        : Date.parse(expires);
  const base = { reason: config.reason, expires, expiresAtMs };
  if (config.tokenId !== undefined) {
    const id = config.tokenId;
    return { ...base, kind: 'tokenId', value: id, matches: (t) => t.id === id };
  }
  if (config.ownerId !== undefined) {
    const id = config.ownerId;
    return { ...base, kind: 'ownerId', value: id, matches: (t) => t.owner.id === id };
  }
  const pattern = config.namePattern!;
  const regex = globToRegExp(pattern);
  return { ...base, kind: 'namePattern', value: pattern, matches: (t) => regex.test(t.name) };
}

export function isActive(exemption: Exemption, nowMs: number): boolean {
  return exemption.expiresAtMs === undefined || nowMs < exemption.expiresAtMs;
}

/** `*` → any run of characters, `?` → one character; everything else literal; whole name; any case. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'is');
}

/** Exemption order decides which one a report names: token id, then owner, then name pattern. */
const KIND_ORDER: Record<ExemptionKind, number> = { tokenId: 0, ownerId: 1, namePattern: 2 };

export interface ExemptionMatch {
  /** The exemption protecting the token now, if any. */
  readonly active?: Exemption;
  /** Exemptions that match but have expired (reported so operators see why protection ended). */
  readonly expired: readonly Exemption[];
}

export function matchExemptions(
  exemptions: readonly Exemption[],
  token: ExemptableToken,
  nowMs: number,
): ExemptionMatch {
  const matching = exemptions.filter((e) => e.matches(token));
  const active = matching
    .filter((e) => isActive(e, nowMs))
    .sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind])[0];
  return { active, expired: matching.filter((e) => !isActive(e, nowMs)) };
}
