/** The handler's batch counts reach CloudWatch as PascalCase metrics, the names the dashboard shows. */
import { createAccessProvisioningHandler } from '../../../functions/access-provisioning/handler';
import { silentLog } from '../../../functions/shared/observability';
import { drainQueue } from '../../../local/queue-poller';
import { disableMetricsOutput, recordingMetrics } from '../../support/powertools';
import { grant, person, role, startHarness, TEST_SETTINGS, type Harness } from './harness';

describe('access provisioning: metrics', () => {
  let h: Harness;
  disableMetricsOutput();
  afterEach(async () => h?.stop());

  it('emits each batch count under its metric name', async () => {
    h = await startHarness();
    const { metrics, recorded } = recordingMetrics('access-provisioning');
    const handler = createAccessProvisioningHandler({
      sailpoint: h.client,
      doc: h.doc,
      tableName: h.tableName,
      sqs: h.sqs,
      queueUrl: h.queueUrl,
      deadLetterQueueUrl: h.dlqUrl,
      maxReceiveCount: h.maxReceiveCount,
      log: silentLog,
      metrics,
      settings: TEST_SETTINGS,
    });
    const body = grant([person(1)], [{ type: 'ROLE', id: role(1) }]);
    await h.send(body, body, 'not json');
    await drainQueue({ sqs: h.sqs, queueUrl: h.queueUrl, handler, timeoutMs: 15_000 });

    expect(recorded).toMatchObject({
      Messages: 3,
      Submitted: 1,
      DuplicatesSuppressed: 1,
      InvalidMessages: 1,
      RequestsPosted: 1,
      FailedMessages: 0,
    });
    expect(Object.keys(recorded).filter((name) => !/^[A-Z][A-Za-z]+$/.test(name))).toEqual([]);
  });
});
