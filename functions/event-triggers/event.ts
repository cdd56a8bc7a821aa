/**
 * One SQS message from a trigger rule → which trigger it is and its validated payload, or the reason
 * it cannot be handled (for the dead-letter queue). Pure.
 */
import {
  describeIssues,
  EventBridgeEnvelopeSchema,
  PAYLOAD_SCHEMAS,
  type EventBridgeEnvelope,
  type PayloadOf,
} from './payloads';
import { TRIGGERS, triggerOfSource, type TriggerKey, type TriggerSources } from './triggers';

export type TriggerEvent = {
  [K in TriggerKey]: {
    readonly trigger: K;
    readonly envelope: EventBridgeEnvelope;
    readonly payload: PayloadOf[K];
  };
}[TriggerKey];

export type ParsedTriggerEvent = { ok: true; event: TriggerEvent } | { ok: false; reason: string };

export function parseTriggerEvent(body: string, sources: TriggerSources): ParsedTriggerEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'invalid trigger event: the message body is not JSON' };
  }
  const envelope = EventBridgeEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    return {
      ok: false,
      reason: `invalid trigger event: not an EventBridge event: ${describeIssues(envelope.error)}`,
    };
  }
  const { source } = envelope.data;
  const trigger = triggerOfSource(sources, source);
  if (!trigger) {
    return {
      ok: false,
      reason: `invalid trigger event: source ${JSON.stringify(source.slice(0, 300))} is not a configured trigger source`,
    };
  }
  // A detail-type that names another trigger means the source was configured for the wrong trigger.
  const detailType = envelope.data['detail-type'];
  if (/^idn:/.test(detailType) && detailType !== TRIGGERS[trigger].id) {
    return {
      ok: false,
      reason: `invalid trigger event: source ${source} is configured for ${TRIGGERS[trigger].id} but the event is ${detailType}`,
    };
  }
  const payload = PAYLOAD_SCHEMAS[trigger].safeParse(envelope.data.detail);
  if (!payload.success) {
    return {
      ok: false,
      reason: `invalid ${TRIGGERS[trigger].id} event ${envelope.data.id}: ${describeIssues(payload.error, 'detail')}`,
    };
  }
  return { ok: true, event: { trigger, envelope: envelope.data, payload: payload.data } as TriggerEvent };
}
