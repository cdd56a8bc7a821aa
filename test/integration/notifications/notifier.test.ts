/** The SNS notifier over the wire (fauxqs): batches, per-entry results, and the topic check at start. */
import { ConfigError } from '../../../functions/shared/config';
import {
  SnsNotifier,
  connectNotifier,
  publishAll,
  type Notification,
} from '../../../functions/shared/notifier';
import { silentLog } from '../../../functions/shared/observability';
import { freshTopic, localSnsClient } from '../../support/emulators';

const notice = (i: number): Notification => ({
  kind: 'test.kind',
  key: `test/${i}`,
  subject: `notice ${i}`,
  detail: { i },
});

describe('SNS notifier', () => {
  it('publishes many notifications in PublishBatch calls of 10, each delivered once', async () => {
    const topic = await freshTopic();
    const notifier = new SnsNotifier(topic.sns, topic.topicArn);
    const results = await publishAll(
      notifier,
      Array.from({ length: 25 }, (_, i) => notice(i)),
      { concurrency: 2 },
    );

    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => r.key)).toEqual(Array.from({ length: 25 }, (_, i) => `test/${i}`));
    expect(topic.commands).toEqual(['PublishBatchCommand', 'PublishBatchCommand', 'PublishBatchCommand']);
    const delivered = await topic.delivered();
    expect(delivered.map((m) => m.key).sort()).toEqual(results.map((r) => r.key).sort());
  });

  it('a batch that fails as a whole fails each of its notifications; the others are sent', async () => {
    const topic = await freshTopic();
    let calls = 0;
    const flaky = new SnsNotifier(topic.sns, topic.topicArn);
    const original = flaky.publishBatch.bind(flaky);
    flaky.publishBatch = async (batch) => {
      if (calls++ === 0) throw new Error('SNS throttled');
      return original(batch);
    };
    const results = await publishAll(
      flaky,
      Array.from({ length: 15 }, (_, i) => notice(i)),
      {
        concurrency: 1,
      },
    );
    expect(results.filter((r) => !r.ok)).toHaveLength(10);
    expect(results.filter((r) => !r.ok)[0]).toMatchObject({ ok: false, error: 'SNS throttled' });
    expect((await topic.delivered()).map((m) => m.key)).toHaveLength(5);
  });

  it('a topic that does not exist stops the function at start, naming the setting', async () => {
    const missing = 'arn:aws:sns:us-east-1:000000000000:no-such-topic';
    const error = await connectNotifier(
      { NOTIFICATIONS_TOPIC_ARN: missing },
      silentLog,
      localSnsClient(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /NOTIFICATIONS_TOPIC_ARN: topic arn:aws:sns:us-east-1:000000000000:no-such-topic does not exist/,
    );

    const topic = await freshTopic();
    await expect(
      connectNotifier({ NOTIFICATIONS_TOPIC_ARN: topic.topicArn }, silentLog, topic.sns),
    ).resolves.toBeInstanceOf(SnsNotifier);
  });
});
