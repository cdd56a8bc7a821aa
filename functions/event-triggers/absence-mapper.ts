/**
 * Identity Attributes Changed → the absence queue (rules: absence-mapping.ts). Changes of attributes
 * outside the mapping are ignored without any I/O (counted by the handler, not logged one by one).
 */
import { PermanentMessageError } from '../shared/queue/outcomes';
import {
  absenceEventOf,
  applyChanges,
  mappedAttributes,
  UnreadableAbsenceError,
  type AbsenceAttributeMapping,
} from './absence-mapping';
import type { AbsenceQueue } from './absence-queue';
import type { AttributeSnapshotStore } from './attribute-snapshots';
import type { IdentityAttributesChanged } from './payloads';

export type MapperOutcome =
  | { readonly outcome: 'ignored'; readonly detail: string }
  | { readonly outcome: 'sent'; readonly detail: string; readonly eventId: string; readonly type: string };

const MAX_WRITE_ATTEMPTS = 5;

export class AbsenceMapper {
  private readonly mapped: ReadonlySet<string>;

  constructor(
    private readonly mapping: AbsenceAttributeMapping,
    private readonly snapshots: AttributeSnapshotStore,
    private readonly queue: AbsenceQueue,
  ) {
    this.mapped = new Set(mappedAttributes(mapping));
  }

  /** `at`: the event's time (the envelope's `time`). */
  async handle(payload: IdentityAttributesChanged, at: string): Promise<MapperOutcome> {
    const changes = payload.changes.filter((c) => this.mapped.has(c.attribute));
    if (changes.length === 0) {
      return { outcome: 'ignored', detail: 'no mapped attribute changed' };
    }
    const identityId = payload.identity.id;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const before = await this.snapshots.get(identityId);
      const next = applyChanges(identityId, before, changes, new Date(at).toISOString());
      if (next && !(await this.snapshots.save(next, before))) continue; // a concurrent event won: again
      // Unchanged (a re-delivery, or older than what is held): the current state again, same eventId.
      const snapshot = next ?? before!;
      let event;
      try {
        event = absenceEventOf(this.mapping, snapshot, next ? before : undefined);
      } catch (error) {
        if (!(error instanceof UnreadableAbsenceError)) throw error;
        throw new PermanentMessageError(
          `absence attributes of ${identityId} are unreadable: ${error.message}`,
        );
      }
      await this.queue.send(event);
      return {
        outcome: 'sent',
        eventId: event.eventId,
        type: event.type,
        detail: `${event.type} ${event.absenceId} (${next ? 'attributes changed' : 'attributes as held'})`,
      };
    }
    throw new Error(`mapped attributes of ${identityId} kept changing under concurrent events; will retry`);
  }
}
