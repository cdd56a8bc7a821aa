/**
 * A work queue with its dead-letter queue, wired to the function that consumes it.
 *
 * - Both queues: SSE (SQS-managed keys), TLS enforced by the queue policy, 14 days' retention;
 *   optionally FIFO (then the dead-letter queue is FIFO too, as SQS requires).
 * - Redrive after `maxReceiveCount` receives. Our functions dead-letter a message themselves, with a
 *   reason attribute, on its last allowed receive; the redrive policy catches what they cannot
 *   (a crash or timeout on that last receive).
 * - Visibility timeout = 6 x function timeout + batching window (AWS's guidance for Lambda), so a
 *   batch being worked on is not delivered again meanwhile, even across the function's own retries.
 * - Event source: partial batch responses (ReportBatchItemFailures) and a maximum concurrency that
 *   bounds how many instances call SailPoint at once.
 * - Optionally (`acceptOnlyFrom`), a queue policy that lets only the listed producers send work.
 */
import { Duration, Lazy } from 'aws-cdk-lib';
import { AccountPrincipal, AnyPrincipal, Effect, PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkQueueProps {
  /**
   * FIFO (both queues): producers set MessageGroupId (e.g. the identity), so one group's messages
   * are handled one at a time and in order. Identical bodies within 5 minutes are deduplicated.
   */
  readonly fifo: boolean;
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
  readonly functionTimeoutSeconds: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
}

/** AWS's rule for a Lambda-consumed queue. */
export function visibilityTimeoutSeconds(
  functionTimeoutSeconds: number,
  maxBatchingWindowSeconds: number,
): number {
  return 6 * functionTimeoutSeconds + maxBatchingWindowSeconds;
}

export class WorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** Roles of the stack's own functions that feed this queue (e.g. the event-trigger mapper). */
  private readonly internalProducers: IRole[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: WorkQueueProps,
  ) {
    super(scope, id);
    const common = {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(props.retentionDays),
      ...(props.fifo ? { fifo: true, contentBasedDeduplication: true } : {}),
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', common);
    this.queue = new Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: Duration.seconds(
        visibilityTimeoutSeconds(props.functionTimeoutSeconds, props.maxBatchingWindowSeconds),
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }

  /**
   * Makes `fn` the queue's consumer. The event source grants receive/delete/change-visibility on the
   * queue (the function also delays messages by Retry-After); the function may send to the DLQ only.
   */
  consumeWith(fn: IFunction, maxConcurrency: number): void {
    fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: this.props.batchSize,
        maxBatchingWindow:
          this.props.maxBatchingWindowSeconds > 0
            ? Duration.seconds(this.props.maxBatchingWindowSeconds)
            : undefined,
        reportBatchItemFailures: true,
        maxConcurrency,
      }),
    );
    this.deadLetterQueue.grantSendMessages(fn);
  }

  /**
   * Only `producers` may send work: IAM principal ARNs (`aws:PrincipalArn`, `*` wildcards allowed) or
   * account ids (`aws:PrincipalAccount`). Everyone else is denied `sqs:SendMessage`, whatever their
   * IAM policies allow, except
   * - `consumer`, the stack's own function working this queue;
   * - a request an AWS service makes for a principal (`aws:ViaAWSService`) or as itself
   *   (`aws:PrincipalServiceName` sqs.amazonaws.com): SQS's dead-letter queue redrive
   *   (start-message-move-task), which still needs the operator's IAM permission to send here.
   * The producers' accounts are also allowed to send (needed for other accounts; for this account
   * it only defers to IAM), so a producer in another account needs just its own IAM grant.
   */
  /**
   * A function of this stack that sends to the queue: allowed to (IAM), and exempt from the
   * producers-only policy when there is one.
   */
  addInternalProducer(fn: IFunction): void {
    this.queue.grantSendMessages(fn);
    if (fn.role) this.internalProducers.push(fn.role);
  }

  acceptOnlyFrom(producers: readonly string[], consumer: IRole): void {
    const accountOf = (producer: string) => (/^\d{12}$/.test(producer) ? producer : producer.split(':')[4]!);
    const wholeAccounts = producers.filter((p) => /^\d{12}$/.test(p) || p.endsWith(':root')).map(accountOf);
    const principalArns = producers.filter((p) => p.startsWith('arn:') && !p.endsWith(':root'));
    const accounts = [...new Set(producers.map(accountOf))];
    if (accounts.length > 0) {
      this.queue.addToResourcePolicy(
        new PolicyStatement({
          sid: 'ProducersMaySend',
          principals: accounts.map((account) => new AccountPrincipal(account)),
          actions: ['sqs:SendMessage'],
          resources: [this.queue.queueArn],
        }),
      );
    }
    this.queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyProducersSend',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: {
          StringNotLike: {
            'aws:PrincipalArn': Lazy.list({
              produce: () => [
                ...principalArns,
                consumer.roleArn,
                ...this.internalProducers.map((r) => r.roleArn),
              ],
            }),
          },
          ...(wholeAccounts.length > 0 ? { StringNotEquals: { 'aws:PrincipalAccount': wholeAccounts } } : {}),
          BoolIfExists: { 'aws:ViaAWSService': 'false' },
          StringNotEqualsIfExists: { 'aws:PrincipalServiceName': 'sqs.amazonaws.com' },
        },
      }),
    );
  }
}
