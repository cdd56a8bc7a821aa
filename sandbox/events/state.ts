/**
 * The sandbox's event triggers: trigger subscriptions (/beta/trigger-subscriptions) and where the
 * EventBridge deliveries go. ISC creates one partner event source per EVENTBRIDGE subscription; the
 * sandbox hands each event, as the EventBridge envelope AWS would deliver, to `deliver` — the local
 * EventBridge (sandbox/events/router.ts) or a test's collector. Kept apart from the routes so
 * sandbox/state.ts can hold it without importing route code.
 */
import type { EventBridgeEnvelope } from '../../functions/event-triggers/payloads';
import type { SandboxAccessRequestRecord } from '../sailpoint/access-request-state';

export interface SandboxSubscription {
  readonly id: string;
  name: string;
  description?: string;
  readonly triggerId: string;
  readonly triggerName: string;
  readonly type: 'HTTP' | 'EVENTBRIDGE' | 'INLINE' | 'SCRIPT' | 'WORKFLOW';
  eventBridgeConfig?: { awsAccount: string; awsRegion: string };
  enabled: boolean;
  filter?: string;
  readonly created: string;
}

export interface SandboxEventTriggers {
  /** Subscriptions by id, in creation order. */
  readonly subscriptions: Map<string, SandboxSubscription>;
  /** Every envelope handed to `deliver`, in order (tests read it; a re-delivery pushes it again). */
  readonly delivered: EventBridgeEnvelope[];
  /** Where EventBridge deliveries go; default: nowhere (AWS drops events of a source with no bus). */
  deliver: (envelope: EventBridgeEnvelope) => void | Promise<void>;
  /** Deliveries still running (`settled()` waits for them). */
  readonly pending: Set<Promise<void>>;
  /** The approver's comment in Access Request Decision; default none when approved, a reason when denied. */
  approvalComment: (record: SandboxAccessRequestRecord) => string | null;
  /**
   * The error provisioning meets for an approved record, asked once when it is decided; default none
   * (SUCCESS). With one, the record ends PROVISIONING_FAILED (the status list's errorMessages say why,
   * the identity's access is unchanged) and Provisioning Completed reports its account request FAILED
   * with the message in `errors`.
   */
  provisioningError: (record: SandboxAccessRequestRecord) => string | null;
  /** Resolves when every delivery started so far has finished. */
  settled(): Promise<void>;
}

export function createEventTriggerState(): SandboxEventTriggers {
  const pending = new Set<Promise<void>>();
  return {
    subscriptions: new Map(),
    delivered: [],
    deliver: () => undefined,
    pending,
    approvalComment: (record) =>
      record.decision === 'REJECTED'
        ? `Rejected by the sandbox approver: ${record.item.name} is not granted`
        : null,
    provisioningError: () => null,
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
