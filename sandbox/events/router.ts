/**
 * A small in-process EventBridge for the local stack: event buses with rules (event patterns,
 * matched by event-pattern.ts) and targets. A partner event source's events arrive on the partner
 * event bus of the same name, as in AWS; a source without a bus is dropped (AWS drops events of a
 * partner event source that is not associated with a bus) and counted. The local stack builds its
 * buses and rules from the same definitions as the CDK stack (functions/event-triggers/triggers.ts).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEnvelope } from '../../functions/event-triggers/payloads';
import { rulePattern, type TriggerSources } from '../../functions/event-triggers/triggers';
import { matchesPattern } from './event-pattern';

export type EventTarget = (envelope: EventBridgeEnvelope) => Promise<void>;

interface LocalRule {
  readonly name: string;
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly targets: readonly EventTarget[];
}

export class LocalEventBridge {
  private readonly buses = new Map<string, LocalRule[]>();
  readonly stats = { put: 0, matched: 0, unmatched: 0, noBus: 0 };

  addBus(name: string): this {
    if (!this.buses.has(name)) this.buses.set(name, []);
    return this;
  }

  /** Per trigger: a partner event bus of its source, with the stack's rule (`<trigger>Rule`) sending to `target`. */
  addTriggerSources(sources: TriggerSources, target: EventTarget): this {
    for (const [trigger, source] of Object.entries(sources)) {
      this.addBus(source).addRule(source, `${trigger}Rule`, rulePattern(source), target);
    }
    return this;
  }

  addRule(
    bus: string,
    name: string,
    pattern: Readonly<Record<string, unknown>>,
    ...targets: EventTarget[]
  ): this {
    const rules = this.buses.get(bus);
    if (!rules) throw new Error(`local EventBridge: no bus ${bus}`);
    rules.push({ name, pattern, targets });
    return this;
  }

  /** Delivers a partner event as EventBridge would: every matching rule's targets, in parallel. */
  async put(envelope: EventBridgeEnvelope): Promise<void> {
    this.stats.put++;
    const rules = this.buses.get(envelope.source);
    if (!rules) {
      this.stats.noBus++;
      return;
    }
    const matching = rules.filter((rule) => matchesPattern(rule.pattern, envelope));
    if (matching.length === 0) this.stats.unmatched++;
    else this.stats.matched++;
    await Promise.all(matching.flatMap((rule) => rule.targets.map((target) => target(envelope))));
  }
}

/** An SQS queue target: the message body is the event, as EventBridge sends it. */
export function sqsTarget(sqs: SQSClient, queueUrl: string): EventTarget {
  return async (envelope) => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(envelope) }));
  };
}
