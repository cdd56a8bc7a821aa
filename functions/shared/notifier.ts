/**
 * Where new findings and other operator-facing events go. In AWS: an SNS topic (subscribers pick
 * email, chat or a ticketing queue). Locally: printed and kept in memory so runs and tests can read them.
 * Callers publish each notification once per new finding; `key` names the finding so a subscriber
 * can drop the rare duplicate left by a crash between publishing and recording that it was published.
 *
 * Many at once: `publishAll` sends SNS PublishBatch calls (10 notifications each) with bounded
 * concurrency, and reports each notification's own result (a batch can half-succeed).
 */
import {
  GetTopicAttributesCommand,
  PublishBatchCommand,
  PublishCommand,
  type MessageAttributeValue,
  type SNSClient,
} from '@aws-sdk/client-sns';
import * as z from 'zod';
import { createSnsClient } from './aws';
import { ConfigError } from './config';
import type { LogSink } from './observability';

export interface Notification {
  /** e.g. 'stale-token.flagged', 'cognigy.over-privileged' */
  readonly kind: string;
  /** Stable identity of what is being notified about (e.g. the finding's key). */
  readonly key: string;
  readonly subject: string;
  readonly detail: Readonly<Record<string, unknown>>;
  /**
   * Extra SNS message attributes for subscription filters (e.g. ownerId, ownerEmail); `kind` and
   * `key` are always set and cannot be overridden. Empty values are left out (SNS refuses them).
   */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** What became of one notification of a batch. */
export type PublishResult =
  | { readonly key: string; readonly ok: true }
  | { readonly key: string; readonly ok: false; readonly error: string };

export interface Notifier {
  publish(notification: Notification): Promise<void>;
  /**
   * Up to SNS_BATCH_LIMIT notifications in one call; one result per notification, in order. Throws
   * only when the call as a whole failed. Optional: `publishAll` falls back to `publish`.
   */
  publishBatch?(notifications: readonly Notification[]): Promise<PublishResult[]>;
}

/** SNS PublishBatch: at most 10 entries, 256 KiB in total. */
export const SNS_BATCH_LIMIT = 10;
const SNS_BATCH_MAX_BYTES = 256 * 1024;
/** Batch calls in flight at once by default (SNS allows thousands of publishes per second per topic). */
export const DEFAULT_PUBLISH_CONCURRENCY = 8;

/**
 * The SNS form of a notification: one place, so Publish and PublishBatch send the same message and
 * the same attributes (`kind`, `key` and the notification's own, e.g. ownerId, for subscription filters).
 */
function snsMessageOf(notification: Notification): {
  Subject: string;
  Message: string;
  MessageAttributes: Record<string, MessageAttributeValue>;
} {
  return {
    Subject: notification.subject.slice(0, 100),
    Message: JSON.stringify(notification),
    MessageAttributes: messageAttributesOf(notification),
  };
}

/** `kind`, `key` and the notification's own attributes, as SNS String attributes. */
export function messageAttributesOf(
  notification: Notification,
): Record<string, { DataType: 'String'; StringValue: string }> {
  const values = { ...notification.attributes, kind: notification.kind, key: notification.key };
  return Object.fromEntries(
    Object.entries(values)
      .filter(([, value]) => value !== '')
      .map(([name, value]) => [name, { DataType: 'String' as const, StringValue: value }]),
  );
}

export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(notification: Notification): Promise<void> {
    await this.sns.send(new PublishCommand({ TopicArn: this.topicArn, ...snsMessageOf(notification) }));
  }

  async publishBatch(notifications: readonly Notification[]): Promise<PublishResult[]> {
    const { Successful = [], Failed = [] } = await this.sns.send(
      new PublishBatchCommand({
        TopicArn: this.topicArn,
        PublishBatchRequestEntries: notifications.map((n, index) => ({
          Id: String(index),
          ...snsMessageOf(n),
        })),
      }),
    );
    const failed = new Map(Failed.map((f) => [f.Id, `${f.Code ?? 'failed'}: ${f.Message ?? ''}`.trim()]));
    const succeeded = new Set(Successful.map((s) => s.Id));
    return notifications.map((n, index): PublishResult => {
      const id = String(index);
      if (succeeded.has(id)) return { key: n.key, ok: true };
      return { key: n.key, ok: false, error: failed.get(id) ?? 'not in the PublishBatch answer' };
    });
  }
}

/**
 * Keeps what was published; optionally prints one line per notification (the local runner does).
 * A batch is a run of `publish` calls, so a test that replaces `publish` sees every notification.
 */
export class RecordingNotifier implements Notifier {
  readonly published: Notification[] = [];
  /** publishBatch calls made (each stands for one SNS PublishBatch). */
  batches = 0;
  constructor(private readonly print?: (line: string) => void) {}

  async publish(notification: Notification): Promise<void> {
    this.published.push(notification);
    this.print?.(`  notify [${notification.kind}] ${notification.subject}`);
  }

  async publishBatch(notifications: readonly Notification[]): Promise<PublishResult[]> {
    this.batches++;
    return publishOneByOne(this, notifications);
  }
}

/** Logs each notification: without a topic, what would have been sent is still in the log. */
export class LogNotifier implements Notifier {
  constructor(private readonly log: LogSink) {}

  async publish(notification: Notification): Promise<void> {
    this.log.info('notification (no NOTIFICATIONS_TOPIC_ARN set)', { notification });
  }

  async publishBatch(notifications: readonly Notification[]): Promise<PublishResult[]> {
    for (const notification of notifications) await this.publish(notification);
    return notifications.map((n) => ({ key: n.key, ok: true }));
  }
}

/** Groups notifications for PublishBatch: at most 10 per call and 256 KiB per call. */
export function batchesOf(notifications: readonly Notification[]): Notification[][] {
  const batches: Notification[][] = [];
  let current: Notification[] = [];
  let bytes = 0;
  for (const n of notifications) {
    const message = snsMessageOf(n);
    const size =
      Buffer.byteLength(message.Message) +
      Buffer.byteLength(message.Subject) +
      Object.entries(message.MessageAttributes).reduce(
        (sum, [name, v]) => sum + Buffer.byteLength(name) + Buffer.byteLength(v.StringValue ?? '') + 6,
        0,
      );
    if (current.length && (current.length >= SNS_BATCH_LIMIT || bytes + size > SNS_BATCH_MAX_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(n);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
}

/**
 * Publishes every notification, in PublishBatch calls of up to 10, at most `concurrency` calls at a
 * time; one result per notification, in input order. A call that fails as a whole fails each of its
 * notifications (the caller keeps them pending); the other calls go on.
 */
export async function publishAll(
  notifier: Notifier,
  notifications: readonly Notification[],
  options: { readonly concurrency?: number } = {},
): Promise<PublishResult[]> {
  const batches = batchesOf(notifications);
  const results = new Map<Notification, PublishResult>();
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      let answered: PublishResult[];
      try {
        answered = notifier.publishBatch
          ? await notifier.publishBatch(batch)
          : await publishOneByOne(notifier, batch);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        answered = batch.map((n) => ({ key: n.key, ok: false, error: message }));
      }
      batch.forEach((n, index) => results.set(n, answered[index]!));
    }
  };
  const workers = Math.min(options.concurrency ?? DEFAULT_PUBLISH_CONCURRENCY, batches.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return notifications.map((n) => results.get(n)!);
}

async function publishOneByOne(notifier: Notifier, batch: readonly Notification[]): Promise<PublishResult[]> {
  const results: PublishResult[] = [];
  for (const n of batch) {
    try {
      await notifier.publish(n);
      results.push({ key: n.key, ok: true });
    } catch (error) {
      results.push({ key: n.key, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return results;
}

/** An SNS topic ARN (standard or FIFO, any partition). */
export const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

/** The NOTIFICATIONS_TOPIC_ARN setting: a topic ARN, or the process stops at start naming it. */
export const topicArnSetting = () =>
  z.string({ error: 'is required (an SNS topic ARN)' }).regex(SNS_TOPIC_ARN, {
    error: 'must be an SNS topic ARN, e.g. arn:aws:sns:eu-west-1:123456789012:iga-findings',
  });

/**
 * Checks that the topic exists and may be used (sns:GetTopicAttributes), so a wrong topic stops the
 * function at its first invocation with a ConfigError naming the setting, instead of losing the
 * first notification. Network errors and 5xx are thrown as they are (transient: the next try repeats).
 */
export async function verifyTopic(
  sns: SNSClient,
  topicArn: string,
  setting = 'NOTIFICATIONS_TOPIC_ARN',
): Promise<void> {
  try {
    await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === undefined || status >= 500) throw error;
    const name = (error as { name?: string }).name ?? 'Error';
    const what = /NotFound/i.test(name) ? 'does not exist' : 'cannot be used';
    throw new ConfigError([
      {
        setting,
        message: `topic ${topicArn} ${what} (${name}: ${error instanceof Error ? error.message : String(error)})`,
      },
    ]);
  }
}

/** SNS when the function has a topic (NOTIFICATIONS_TOPIC_ARN), otherwise the log. */
export function notifierFromSettings(
  settings: { readonly NOTIFICATIONS_TOPIC_ARN?: string | undefined },
  log: LogSink,
): Notifier {
  return settings.NOTIFICATIONS_TOPIC_ARN
    ? new SnsNotifier(createSnsClient(), settings.NOTIFICATIONS_TOPIC_ARN)
    : new LogNotifier(log);
}

/** As notifierFromSettings, after checking that the topic exists (verifyTopic). */
export async function connectNotifier(
  settings: { readonly NOTIFICATIONS_TOPIC_ARN?: string | undefined },
  log: LogSink,
  sns: SNSClient = createSnsClient(),
): Promise<Notifier> {
  if (!settings.NOTIFICATIONS_TOPIC_ARN) return new LogNotifier(log);
  await verifyTopic(sns, settings.NOTIFICATIONS_TOPIC_ARN);
  return new SnsNotifier(sns, settings.NOTIFICATIONS_TOPIC_ARN);
}
