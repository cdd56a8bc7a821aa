/**
 * Findings in DynamoDB: one item per (source, subjectId), every write a single-item conditional
 * write on the item's `version`, so concurrent runs never both apply the same change and never both
 * notify about it. See index.ts for the API in one place.
 *
 * Item: pk = `FINDING#<source>`, sk = `<subjectId>`, then the `Finding` attributes. One partition
 * per source: a run loads its source's findings with one strongly consistent Query.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailure, queryAll } from '../dynamo';
import { DEFAULT_PUBLISH_CONCURRENCY, SNS_BATCH_LIMIT, publishAll, type Notifier } from '../notifier';
import { silentLog, type LogSink } from '../observability';
import {
  isOpen,
  planTransition,
  type Finding,
  type FindingChange,
  type NotificationContent,
  type Observation,
} from './lifecycle';
import { ownerAttributes } from './owners';

/** Longer than any Lambda run (15 min max): a live run's claim is never taken over. */
export const DEFAULT_CLAIM_LEASE_MS = 15 * 60_000;
const MAX_CONFLICT_RETRIES = 5;
const WRITE_CONCURRENCY = 8;
/** claimedAt of a notification a run gave back: long expired, so any run may deliver it. */
const RELEASED_CLAIM = '1970-01-01T00:00:00.000Z';

export interface FindingsStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** How long a run's claim on a notification or action protects it from other runs. */
  readonly claimLeaseMs?: number;
  readonly log?: LogSink;
}

export interface ReconcileOptions {
  readonly now: Date;
  /** Identifies this run; it owns the notifications its changes create. */
  readonly runId: string;
  /** The source's findings as loaded by `list` earlier in the same run (saves a Query). */
  readonly existing?: readonly Finding[];
  /**
   * Open findings absent from `observed`: 'keep' them (the default; right when the run saw only part
   * of the world) or close them with the given status and reason (right after a complete scan).
   */
  readonly unobserved?: 'keep' | { readonly status: 'RESOLVED' | 'REVOKED'; readonly reason: string };
  /** The notification a change calls for, if any; it is published once, by `deliverNotifications`. */
  readonly notificationFor?: (change: FindingChange) => NotificationContent | undefined;
}

export interface ReconcileResult {
  /** The changes written, in observation order. Unchanged findings are not listed. */
  readonly changes: readonly FindingChange[];
  /** Every finding of the source after the run's writes, by subjectId. */
  readonly findings: ReadonlyMap<string, Finding>;
  /** Findings whose notification this run should deliver (its own, or abandoned by a crashed run). */
  readonly undelivered: readonly Finding[];
  /** Observations that could not be written (DynamoDB errors); everything else was written. */
  readonly failed: readonly { readonly subjectId: string; readonly error: string }[];
}

export interface DeliveryResult {
  readonly sent: readonly { readonly key: string; readonly kind: string; readonly subjectId: string }[];
  readonly failed: readonly { readonly key: string; readonly subjectId: string; readonly error: string }[];
  /** Claimed by another run that is still within its lease. */
  readonly leftToOtherRun: number;
  /** Not published because `shouldStop` said so; released for the next run. */
  readonly leftForNextRun: number;
  /** The findings as they are after delivery (versions moved on), by subjectId. */
  readonly findings: ReadonlyMap<string, Finding>;
}

export class FindingsStore {
  /** DynamoDB calls made through this store, for summaries and tests. */
  readonly stats = { reads: 0, writes: 0, conflicts: 0 };
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly claimLeaseMs: number;
  private readonly log: LogSink;

  constructor(options: FindingsStoreOptions) {
    this.doc = options.doc;
    this.tableName = options.tableName;
    this.claimLeaseMs = options.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;
    this.log = options.log ?? silentLog;
  }

  /** Every finding of `source`, open and closed (strongly consistent, all pages). */
  async list(source: string): Promise<Finding[]> {
    const { items, pages } = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': partitionKey(source) },
      ConsistentRead: true,
    });
    this.stats.reads += pages;
    return items.map(fromItem);
  }

  async get(source: string, subjectId: string): Promise<Finding | undefined> {
    this.stats.reads++;
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: partitionKey(source), sk: subjectId },
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  /**
   * Applies what a run observed: writes each finding whose status, reason, owner or facts changed,
   * and nothing else. A change that calls for a notification records it as PENDING, claimed by this
   * run, in the same conditional write; if another run changed the item first, this one re-reads it
   * and re-plans, so a change (and its notification) is applied by exactly one run.
   */
  async reconcile(
    source: string,
    observed: readonly Observation[],
    options: ReconcileOptions,
  ): Promise<ReconcileResult> {
    const now = options.now.toISOString();
    const existing = options.existing ?? (await this.list(source));
    const current = new Map(existing.map((f) => [f.subjectId, f]));

    const seen = new Set<string>();
    for (const o of observed) {
      if (seen.has(o.subjectId)) throw new Error(`${source}: ${o.subjectId} observed twice in one reconcile`);
      seen.add(o.subjectId);
    }
    const toApply: Observation[] = [...observed];
    const unobserved = options.unobserved ?? 'keep';
    if (unobserved !== 'keep') {
      for (const f of existing) {
        if (isOpen(f.status) && !seen.has(f.subjectId)) {
          toApply.push({ subjectId: f.subjectId, status: unobserved.status, reason: unobserved.reason });
        }
      }
    }

    // One failed write must not stop the others: what could be written is written and reported.
    const results = await mapWithConcurrency(toApply, WRITE_CONCURRENCY, (o) =>
      this.apply(source, current.get(o.subjectId), o, now, options).then(
        (applied) => ({ ...applied, subjectId: o.subjectId }),
        (error: unknown) => ({ subjectId: o.subjectId, error: errorMessage(error) }),
      ),
    );
    const changes: FindingChange[] = [];
    const failed: { subjectId: string; error: string }[] = [];
    for (const result of results) {
      if ('error' in result) {
        failed.push(result);
        continue;
      }
      if (result.finding) current.set(result.subjectId, result.finding);
      if (result.change) changes.push(result.change);
    }
    const nowMs = options.now.getTime();
    const undelivered = [...current.values()].filter((f) => this.isDeliverableBy(f, options.runId, nowMs));
    return { changes, findings: current, undelivered, failed };
  }

  /**
   * Claims a one-off action on a finding (e.g. revoking the token) for this run. Returns the updated
   * finding, or undefined when the finding changed since it was read (another run got there first).
   * A claim stays on the finding until it is released (`releaseAction`, when the action failed), the
   * finding's status changes, or its episode ends; callers treat claims older than the lease as
   * abandoned (see `claimIsLive`).
   */
  async claimAction(finding: Finding, action: string, now: Date): Promise<Finding | undefined> {
    return this.updateAtVersion(finding, {
      update: 'SET actionClaims = :claims',
      values: { ':claims': { ...finding.actionClaims, [action]: now.toISOString() } },
    });
  }

  /**
   * Gives up this run's claim on an action that did not happen (e.g. the DELETE failed), so the claim
   * is not later read as "this action was done" and another run may try. Conditional on the version
   * the claim returned: undefined when the finding changed since (nothing is released then).
   */
  async releaseAction(finding: Finding, action: string): Promise<Finding | undefined> {
    return this.updateAtVersion(finding, {
      update: 'REMOVE actionClaims.#action',
      names: { '#action': action },
    });
  }

  /** True while a claim made at `claimedAt` still protects the action from other runs. */
  claimIsLive(claimedAt: string | undefined, now: Date): boolean {
    return claimedAt !== undefined && Date.parse(claimedAt) + this.claimLeaseMs > now.getTime();
  }

  /**
   * Publishes each finding's PENDING notification and records it as SENT. A notification claimed by
   * another run is left to it while its lease lasts, then taken over (conditional on the version).
   *
   * Notifications go out in waves: SNS PublishBatch calls of up to 10, `concurrency` calls at a time
   * (default 8), then their SENT records. Before each wave `shouldStop` is asked (a run close to its
   * timeout): the notifications not yet published are then given back (their claim released), so the
   * next run delivers them at once instead of waiting out this run's lease.
   *
   * Delivery is at-least-once: a crash between publishing and recording leaves it PENDING, and the
   * next run after the lease publishes it again with the same `key`, so a subscriber can drop the
   * duplicate. Recording first would risk the opposite — a finding nobody hears about.
   */
  async deliverNotifications(
    findings: readonly Finding[],
    notifier: Notifier,
    options: {
      readonly now: Date;
      readonly runId: string;
      readonly shouldStop?: () => boolean;
      readonly concurrency?: number;
    },
  ): Promise<DeliveryResult> {
    const sent: DeliveryResult['sent'][number][] = [];
    const failed: DeliveryResult['failed'][number][] = [];
    let leftToOtherRun = 0;
    let leftForNextRun = 0;
    const now = options.now.toISOString();
    const updated = new Map<string, Finding>();
    const concurrency = options.concurrency ?? DEFAULT_PUBLISH_CONCURRENCY;

    // 1. Ours to publish: this run's claims, and abandoned ones taken over.
    const pending = findings.filter((f) => f.notification?.state === 'PENDING');
    const ours: Finding[] = [];
    const takeOvers: Finding[] = [];
    for (const finding of pending) {
      if (finding.notification!.claimId === options.runId) ours.push(finding);
      else if (this.claimIsLive(finding.notification!.claimedAt, options.now)) leftToOtherRun++;
      else takeOvers.push(finding);
    }
    // A take-over that fails leaves it PENDING under the old claim (a later run takes it over).
    const taken = await eachSettled(takeOvers, (finding) =>
      this.takeOverNotification(finding, options.runId, now),
    );
    for (const t of taken) {
      if ('error' in t) {
        failed.push({ key: t.finding.notification!.key, subjectId: t.finding.subjectId, error: t.error });
      } else if (!t.result) {
        leftToOtherRun++;
      } else {
        updated.set(t.result.subjectId, t.result);
        ours.push(t.result);
      }
    }

    // 2. Publish in waves, then record each published one as SENT.
    const wave = concurrency * SNS_BATCH_LIMIT;
    for (let start = 0; start < ours.length; start += wave) {
      if (options.shouldStop?.()) {
        leftForNextRun = await this.giveBack(ours.slice(start), options.runId, updated, failed);
        break;
      }
      const batch = ours.slice(start, start + wave);
      const results = await publishAll(
        notifier,
        batch.map((f) => {
          const n = f.notification!;
          return {
            kind: n.kind,
            key: n.key,
            subject: n.subject,
            detail: n.detail,
            attributes: ownerAttributes(f.owner),
          };
        }),
        { concurrency },
      );
      const published: Finding[] = [];
      results.forEach((result, index) => {
        const finding = batch[index]!;
        // Not published: left PENDING under this run's claim; a later run takes it over after the lease.
        if (!result.ok) failed.push({ key: result.key, subjectId: finding.subjectId, error: result.error });
        else {
          sent.push({ key: result.key, kind: finding.notification!.kind, subjectId: finding.subjectId });
          published.push(finding);
        }
      });
      const recorded = await eachSettled(published, (finding) =>
        this.recordSent(finding, options.runId, now),
      );
      for (const r of recorded) {
        if ('error' in r) {
          failed.push({
            key: r.finding.notification!.key,
            subjectId: r.finding.subjectId,
            error: `published, but recording that failed (a later run will publish it again): ${r.error}`,
          });
        } else if (r.result) {
          updated.set(r.finding.subjectId, r.result);
        }
      }
    }
    return { sent, failed, leftToOtherRun, leftForNextRun, findings: updated };
  }

  /** Releases this run's claim on notifications it will not publish, so the next run takes them at once. */
  private async giveBack(
    findings: readonly Finding[],
    runId: string,
    updated: Map<string, Finding>,
    failed: DeliveryResult['failed'][number][],
  ): Promise<number> {
    const released = await eachSettled(findings, (finding) =>
      this.conditionalUpdate(finding, {
        update: 'SET notification.claimedAt = :released, version = version + :one',
        condition: 'notification.#key = :key AND notification.claimId = :me',
        names: { '#key': 'key' },
        values: { ':released': RELEASED_CLAIM, ':one': 1, ':key': finding.notification!.key, ':me': runId },
      }),
    );
    for (const r of released) {
      if ('error' in r) {
        // Still claimed: the lease ends it.
        failed.push({
          key: r.finding.notification!.key,
          subjectId: r.finding.subjectId,
          error: `left for the next run, but releasing its claim failed: ${r.error}`,
        });
      } else if (r.result) {
        updated.set(r.finding.subjectId, r.result);
      }
    }
    return findings.length;
  }

  private isDeliverableBy(finding: Finding, runId: string, nowMs: number): boolean {
    const n = finding.notification;
    if (n?.state !== 'PENDING') return false;
    return n.claimId === runId || Date.parse(n.claimedAt) + this.claimLeaseMs <= nowMs;
  }

  private async apply(
    source: string,
    before: Finding | undefined,
    observation: Observation,
    now: string,
    options: ReconcileOptions,
  ): Promise<{ finding?: Finding; change?: FindingChange }> {
    for (let attempt = 1; ; attempt++) {
      const planned = planTransition(source, before, observation, now);
      if (!planned) return { finding: before };
      const content = options.notificationFor?.(planned);
      const after: Finding = content
        ? {
            ...planned.after,
            notification: {
              ...content,
              key: `${source}/${observation.subjectId}/v${planned.after.version}`,
              state: 'PENDING',
              claimId: options.runId,
              claimedAt: now,
            },
          }
        : planned.after;
      try {
        this.stats.writes++;
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toItem(after),
            ConditionExpression: before ? 'version = :version' : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: before ? { ':version': before.version } : undefined,
          }),
        );
        return { finding: after, change: { ...planned, after } };
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        this.stats.conflicts++;
        if (attempt >= MAX_CONFLICT_RETRIES) {
          throw new Error(`${source}/${observation.subjectId}: still changing after ${attempt} attempts`);
        }
        this.log.debug('finding changed by another run; re-reading', {
          source,
          subjectId: observation.subjectId,
        });
        before = await this.get(source, observation.subjectId);
      }
    }
  }

  private async takeOverNotification(
    finding: Finding,
    runId: string,
    now: string,
  ): Promise<Finding | undefined> {
    const taken = await this.updateAtVersion(finding, {
      update: 'SET notification.claimId = :me, notification.claimedAt = :now',
      values: { ':me': runId, ':now': now },
    });
    if (taken) {
      this.log.info('took over an undelivered notification', {
        source: finding.source,
        subjectId: finding.subjectId,
        key: finding.notification?.key,
        abandonedBy: finding.notification?.claimId,
      });
    }
    return taken;
  }

  /**
   * One conditional write on a finding read at `finding.version`: applies `update` and bumps the
   * version. Returns the finding as written, or undefined when another run changed it first.
   */
  private async updateAtVersion(
    finding: Finding,
    change: {
      readonly update: string;
      readonly names?: Record<string, string>;
      readonly values?: Record<string, unknown>;
    },
  ): Promise<Finding | undefined> {
    // REMOVE and SET clauses may stand in either order in one expression; the version bump is a SET.
    const update = change.update.startsWith('SET ')
      ? `${change.update}, version = :next`
      : `${change.update} SET version = :next`;
    return this.conditionalUpdate(finding, {
      update,
      condition: 'version = :version',
      names: change.names,
      values: { ...change.values, ':next': finding.version + 1, ':version': finding.version },
    });
  }

  /** One conditional UpdateItem on a finding: the finding as written, or undefined when the condition failed. */
  private async conditionalUpdate(
    finding: Finding,
    change: {
      readonly update: string;
      readonly condition: string;
      readonly names?: Record<string, string>;
      readonly values: Record<string, unknown>;
    },
  ): Promise<Finding | undefined> {
    try {
      this.stats.writes++;
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: partitionKey(finding.source), sk: finding.subjectId },
          UpdateExpression: change.update,
          ConditionExpression: change.condition,
          ...(change.names ? { ExpressionAttributeNames: change.names } : {}),
          ExpressionAttributeValues: change.values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes!);
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      this.stats.conflicts++;
      return undefined;
    }
  }

  private async recordSent(finding: Finding, runId: string, now: string): Promise<Finding | undefined> {
    // Conditional on the notification, not the version: undefined when a newer change replaced this
    // notification while it was being published (nothing to record then).
    return this.conditionalUpdate(finding, {
      update: 'SET notification.#state = :sent, notification.sentAt = :now, version = version + :one',
      condition: 'notification.#key = :key AND notification.claimId = :me',
      names: { '#state': 'state', '#key': 'key' },
      values: { ':sent': 'SENT', ':now': now, ':one': 1, ':key': finding.notification!.key, ':me': runId },
    });
  }
}

export const partitionKey = (source: string) => `FINDING#${source}`;

function toItem(finding: Finding): Record<string, unknown> {
  return { pk: partitionKey(finding.source), sk: finding.subjectId, ...finding };
}

function fromItem(item: Record<string, unknown>): Finding {
  const { pk: _pk, sk: _sk, ...finding } = item;
  return finding as unknown as Finding;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `write` for each finding, WRITE_CONCURRENCY at a time; each one's result or error, never a rejection. */
function eachSettled<R>(
  findings: readonly Finding[],
  write: (finding: Finding) => Promise<R>,
): Promise<({ finding: Finding; result: R } | { finding: Finding; error: string })[]> {
  return mapWithConcurrency(findings, WRITE_CONCURRENCY, (finding) =>
    write(finding).then(
      (result) => ({ finding, result }),
      (error: unknown) => ({ finding, error: errorMessage(error) }),
    ),
  );
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
