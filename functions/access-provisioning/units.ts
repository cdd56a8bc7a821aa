/**
 * Units of work. A message asks for (requestType × requestedFor × requestedItems); each combination
 * is one unit: (requestType, identity, item type, item id). Dedup, the current-access check and the
 * outcome are decided per unit; coalescing (coalesce.ts) puts units back together into API requests.
 *
 * Two units that differ only in requestType share an *access slot* (identity, item type, item id):
 * the DynamoDB state keeps one item per slot, which is how a GRANT and a REVOKE of the same access
 * are kept from racing (see slot-policy.ts).
 */
import type { AccessItemType, AccessRequestMessage, RequestType } from './contract';

/** Per-item attributes that travel with a unit and must survive coalescing. */
export interface ItemSpec {
  readonly type: AccessItemType;
  readonly id: string;
  readonly comment?: string;
  readonly removeDate?: string;
  readonly clientMetadata?: Readonly<Record<string, string>>;
}

export interface Unit {
  /** `GRANT_ACCESS|<identity>|<type>|<id>` */
  readonly key: string;
  readonly slot: SlotRef;
  readonly requestType: RequestType;
  readonly identityId: string;
  readonly item: ItemSpec;
  /** The message's top-level clientMetadata (applies to the whole API request). */
  readonly requestMetadata?: Readonly<Record<string, string>>;
}

export interface SlotRef {
  /** `<identity>|<type>|<id>` */
  readonly key: string;
  readonly identityId: string;
  readonly itemType: AccessItemType;
  readonly itemId: string;
}

export function slotRef(identityId: string, itemType: AccessItemType, itemId: string): SlotRef {
  return { key: `${identityId}|${itemType}|${itemId}`, identityId, itemType, itemId };
}

export function unitKey(requestType: RequestType, slot: SlotRef): string {
  return `${requestType}|${slot.key}`;
}

/** Every unit a valid message asks for, in message order (identities outer, items inner). */
export function unitsOf(message: AccessRequestMessage): Unit[] {
  const units: Unit[] = [];
  for (const identityId of message.requestedFor) {
    for (const item of message.requestedItems) {
      const slot = slotRef(identityId, item.type, item.id);
      units.push({
        key: unitKey(message.requestType, slot),
        slot,
        requestType: message.requestType,
        identityId,
        item: {
          type: item.type,
          id: item.id,
          ...(item.comment === undefined ? {} : { comment: item.comment }),
          ...(item.removeDate === undefined ? {} : { removeDate: item.removeDate }),
          ...(item.clientMetadata === undefined ? {} : { clientMetadata: item.clientMetadata }),
        },
        ...(message.clientMetadata === undefined ? {} : { requestMetadata: message.clientMetadata }),
      });
    }
  }
  return units;
}

/** A short human description: "GRANT_ACCESS ROLE r1 for identity i1". */
export function describeUnit(unit: {
  readonly requestType: string;
  readonly identityId: string;
  readonly item: { readonly type: string; readonly id: string };
}): string {
  return `${unit.requestType} ${unit.item.type} ${unit.item.id} for identity ${unit.identityId}`;
}

/** JSON with sorted keys, so equal objects give equal strings (used as grouping keys). */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return '';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
