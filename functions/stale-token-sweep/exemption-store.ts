/**
 * Exemptions kept as data (`iga exemptions add|remove|list`), read by the sweep on every run, so
 * exempting a token needs no redeploy. They live in the findings table, beside the findings they
 * affect (the sweep already reads that table), one item per exemption:
 *
 *   pk = EXEMPTION#stale-token   sk = <kind>#<value>   (name patterns in lower case: they match any case)
 *   kind, value, reason, expires?, status ACTIVE | REMOVED, addedBy, addedAt, removedBy?, removedAt?,
 *   version, history[]  (one entry per add and remove: who, when, what — the audit trail)
 *
 * A removal keeps the item (status REMOVED) and its history; adding the same exemption again reuses
 * the item and appends to its history. Every write is one conditional write on the item, so the item
 * and its audit trail can never disagree. The STALE_TOKEN_EXEMPTIONS setting stays a read-only
 * baseline: the sweep applies both (see handler.ts).
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailure, queryAll } from '../shared/dynamo';
import { exemptionSchema, type ExemptionConfig, type ExemptionKind } from './exemptions';

const PARTITION = 'EXEMPTION#stale-token';
const KINDS: readonly ExemptionKind[] = ['tokenId', 'ownerId', 'namePattern'];

/** Where the sweep reads exemptions from on each run (the seam: tests and the CLI pass their own). */
export interface ExemptionSource {
  /** Every active exemption (expired ones too: the sweep reports why protection ended). */
  load(): Promise<readonly ExemptionConfig[]>;
}

export interface ExemptionEvent {
  readonly action: 'added' | 'removed';
  readonly by: string;
  readonly at: string;
  readonly reason: string;
  readonly expires?: string;
}

export interface StoredExemption {
  /** `<kind>:<value>`, what `iga exemptions remove` takes. */
  readonly id: string;
  readonly kind: ExemptionKind;
  readonly value: string;
  readonly reason: string;
  readonly expires?: string;
  readonly status: 'ACTIVE' | 'REMOVED';
  readonly addedBy: string;
  readonly addedAt: string;
  readonly removedBy?: string;
  readonly removedAt?: string;
  readonly history: readonly ExemptionEvent[];
}

export class ExemptionConflictError extends Error {
  override readonly name = 'ExemptionConflictError';
}

export const exemptionId = (kind: ExemptionKind, value: string) => `${kind}:${value}`;

/** Parses `tokenId:…`, `ownerId:…` or `namePattern:…`. */
export function parseExemptionId(id: string): { kind: ExemptionKind; value: string } {
  const colon = id.indexOf(':');
  const kind = id.slice(0, colon) as ExemptionKind;
  const value = id.slice(colon + 1);
  if (colon < 0 || !KINDS.includes(kind) || !value) {
    throw new Error(
      `"${id}" is not an exemption id: expected ${KINDS.map((k) => `${k}:<value>`).join(', ')}`,
    );
  }
  return { kind, value };
}

const sortKey = (kind: ExemptionKind, value: string) =>
  `${kind}#${kind === 'namePattern' ? value.toLowerCase() : value}`;

export class DynamoExemptionStore implements ExemptionSource {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Every exemption ever added, removed ones included (strongly consistent). */
  async list(): Promise<StoredExemption[]> {
    const { items } = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': PARTITION },
      ConsistentRead: true,
    });
    return items.map(fromItem);
  }

  async load(): Promise<ExemptionConfig[]> {
    const active = (await this.list()).filter((e) => e.status === 'ACTIVE');
    return active.map((e) => {
      // A hand-edited item that no longer validates stops the run rather than being skipped: a
      // skipped exemption could let the sweep revoke the token it protects.
      const parsed = exemptionSchema.safeParse({
        [e.kind]: e.value,
        reason: e.reason,
        ...(e.expires ? { expires: e.expires } : {}),
      });
      if (!parsed.success) {
        throw new Error(
          `exemption ${e.id} in ${this.tableName} is invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
        );
      }
      return parsed.data;
    });
  }

  /**
   * Adds an exemption (validated like STALE_TOKEN_EXEMPTIONS). Refused while the same one is active:
   * remove it first to change its reason or expiry, so every change is in the history.
   */
  async add(config: ExemptionConfig, by: string, now = new Date()): Promise<StoredExemption> {
    const valid = exemptionSchema.parse(config);
    const kind = KINDS.find((k) => valid[k] !== undefined)!;
    const value = valid[kind]!;
    const at = now.toISOString();
    const entry: ExemptionEvent = {
      action: 'added',
      by,
      at,
      reason: valid.reason,
      ...(valid.expires ? { expires: valid.expires } : {}),
    };
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: PARTITION, sk: sortKey(kind, value) },
          ConditionExpression: 'attribute_not_exists(pk) OR #status = :removed',
          UpdateExpression:
            'SET kind = :kind, #value = :value, reason = :reason, #status = :active, addedBy = :by, addedAt = :at, ' +
            '#version = if_not_exists(#version, :zero) + :one, history = list_append(if_not_exists(history, :empty), :entry)' +
            (valid.expires ? ', expires = :expires' : '') +
            ` REMOVE removedBy, removedAt${valid.expires ? '' : ', expires'}`,
          ExpressionAttributeNames: { '#status': 'status', '#value': 'value', '#version': 'version' },
          ExpressionAttributeValues: {
            ':kind': kind,
            ':value': value,
            ':reason': valid.reason,
            ':active': 'ACTIVE',
            ':removed': 'REMOVED',
            ':by': by,
            ':at': at,
            ':zero': 0,
            ':one': 1,
            ':empty': [],
            ':entry': [entry],
            ...(valid.expires ? { ':expires': valid.expires } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes!);
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      throw new ExemptionConflictError(
        `exemption ${exemptionId(kind, value)} is already active; remove it first to change it`,
      );
    }
  }

  /** Ends an active exemption; the item and its history stay. */
  async remove(id: string, by: string, reason: string, now = new Date()): Promise<StoredExemption> {
    const { kind, value } = parseExemptionId(id);
    const at = now.toISOString();
    const entry: ExemptionEvent = { action: 'removed', by, at, reason };
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: PARTITION, sk: sortKey(kind, value) },
          ConditionExpression: '#status = :active',
          UpdateExpression:
            'SET #status = :removed, removedBy = :by, removedAt = :at, #version = #version + :one, ' +
            'history = list_append(history, :entry)',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: {
            ':active': 'ACTIVE',
            ':removed': 'REMOVED',
            ':by': by,
            ':at': at,
            ':one': 1,
            ':entry': [entry],
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes!);
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      throw new ExemptionConflictError(`no active exemption ${id}`);
    }
  }
}

function fromItem(item: Record<string, unknown>): StoredExemption {
  const kind = item.kind as ExemptionKind;
  const value = String(item.value);
  const text = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  return {
    id: exemptionId(kind, value),
    kind,
    value,
    reason: String(item.reason),
    ...(text('expires') ? { expires: text('expires') } : {}),
    status: item.status === 'REMOVED' ? 'REMOVED' : 'ACTIVE',
    addedBy: String(item.addedBy),
    addedAt: String(item.addedAt),
    ...(text('removedBy') ? { removedBy: text('removedBy') } : {}),
    ...(text('removedAt') ? { removedAt: text('removedAt') } : {}),
    history: (item.history as ExemptionEvent[] | undefined) ?? [],
  };
}
