/**
 * The ISC event triggers this product consumes, how their EventBridge partner event sources are named,
 * and the one rule pattern per trigger that both the stack (lib/constructs/event-triggers.ts) and the
 * local router (sandbox/events/router.ts) use.
 *
 * ISC creates one partner event source per EVENTBRIDGE subscription, named
 * `aws.partner/sailpoint.com/<subscription id>/idn/<trigger>` (the trigger id with `:` as `/`). Rules
 * match on that exact `source` and nothing else: the payload is validated by the function against the
 * trigger's schema, so an event that does not fit reaches the dead-letter queue with the reason instead
 * of silently matching no rule (EventBridge drops what no rule matches). `detail-type` is not relied on.
 */
export const TRIGGERS = {
  accessRequestDecision: { id: 'idn:access-request-post-approval', name: 'Access Request Decision' },
  provisioningCompleted: { id: 'idn:post-provisioning', name: 'Provisioning Completed' },
  identityAttributesChanged: { id: 'idn:identity-attributes-changed', name: 'Identity Attributes Changed' },
  identityDeleted: { id: 'idn:identity-deleted', name: 'Identity Deleted' },
} as const;

export type TriggerKey = keyof typeof TRIGGERS;
export type TriggerId = (typeof TRIGGERS)[TriggerKey]['id'];
export const TRIGGER_KEYS = Object.keys(TRIGGERS) as TriggerKey[];

/**
 * The triggers this version handles: the default of `iga triggers subscribe --triggers`; the stack
 * refuses a source for any other (never consumed and dropped).
 */
export const HANDLED_TRIGGERS: readonly TriggerKey[] = [
  'accessRequestDecision',
  'provisioningCompleted',
  'identityAttributesChanged',
  'identityDeleted',
];

/** Partner event sources, per trigger (only the triggers in use). */
export type TriggerSources = Partial<Record<TriggerKey, string>>;

export const PARTNER_SOURCE_PREFIX = 'aws.partner/sailpoint.com';

/**
 * Each trigger whose partner event source an earlier trigger (in `sources`' order) also names, with
 * the latest such earlier trigger: one source for two triggers would feed one's events to the other's
 * handler. Both the stack settings and the function's settings refuse it.
 */
export function duplicateSources<K extends string>(sources: Iterable<readonly [K, string]>): Map<K, K> {
  const seen = new Map<string, K>();
  const duplicates = new Map<K, K>();
  for (const [trigger, source] of sources) {
    const other = seen.get(source);
    if (other !== undefined) duplicates.set(trigger, other);
    seen.set(source, trigger);
  }
  return duplicates;
}

/** The last part of a trigger's partner event source name: `idn/identity-deleted` for `idn:identity-deleted`. */
export function sourceSuffix(trigger: TriggerKey): string {
  return TRIGGERS[trigger].id.replace(':', '/');
}

/** The partner event source ISC creates for a subscription (its id) to `trigger`. */
export function partnerEventSourceName(subscriptionId: string, trigger: TriggerKey): string {
  return `${PARTNER_SOURCE_PREFIX}/${subscriptionId}/${sourceSuffix(trigger)}`;
}

/**
 * What is wrong with `source` as the partner event source of `trigger`, or undefined when it fits.
 * Naming another trigger's source would feed its events to the wrong handler (Identity Created and
 * Identity Deleted carry the same payload shape), so the trigger part must agree.
 */
export function partnerSourceProblem(trigger: TriggerKey, source: string): string | undefined {
  if (!/^[A-Za-z0-9._/-]{1,256}$/.test(source)) {
    return 'must be an EventBridge event source name (letters, digits, . _ / -; at most 256 characters)';
  }
  if (!source.startsWith(`${PARTNER_SOURCE_PREFIX}`)) {
    return `must be a SailPoint partner event source (${PARTNER_SOURCE_PREFIX}/<subscription id>/${sourceSuffix(trigger)})`;
  }
  if (!source.endsWith(`/${sourceSuffix(trigger)}`)) {
    return (
      `is not a ${TRIGGERS[trigger].name} source: ISC names it ` +
      `${PARTNER_SOURCE_PREFIX}/<subscription id>/${sourceSuffix(trigger)}`
    );
  }
  return undefined;
}

/** An EventBridge event pattern (the subset of the syntax this product writes). */
export type EventPattern = { readonly source: readonly string[] };

/** The rule of one trigger: its partner event source, exactly. */
export function rulePattern(source: string): EventPattern {
  return { source: [source] };
}

/** Which configured trigger an event's `source` belongs to. */
export function triggerOfSource(sources: TriggerSources, source: string): TriggerKey | undefined {
  return TRIGGER_KEYS.find((key) => sources[key] === source);
}
