/**
 * Where new findings and other operator-facing events go. In AWS: an SNS topic (subscribers pick
 * email, chat or a ticketing queue). Locally: printed and kept in memory so runs and tests can read them.
 * Callers publish each notification once per new finding; `key` names the finding so a subscriber
 * can drop the rare duplicate left by a crash between publishing and recording that it was published.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { createSnsClient } from './aws';
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

export interface Notifier {
  publish(notification: Notification): Promise<void>;
}

export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(notification: Notification): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: notification.subject.slice(0, 100),
        Message: JSON.stringify(notification),
        MessageAttributes: messageAttributesOf(notification),
      }),
    );
  }
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

/** Keeps what was published; optionally prints one line per notification (the local runner does). */
export class RecordingNotifier implements Notifier {
  readonly published: Notification[] = [];
  constructor(private readonly print?: (line: string) => void) {}

  async publish(notification: Notification): Promise<void> {
    this.published.push(notification);
    this.print?.(`  notify [${notification.kind}] ${notification.subject}`);
  }
}

/** Logs each notification: without a topic, what would have been sent is still in the log. */
export class LogNotifier implements Notifier {
  constructor(private readonly log: LogSink) {}

  async publish(notification: Notification): Promise<void> {
    this.log.info('notification (no NOTIFICATIONS_TOPIC_ARN set)', { notification });
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
