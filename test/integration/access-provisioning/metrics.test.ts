/** The handler's batch counts reach CloudWatch as PascalCase metrics, the names the dashboard shows. */
import { drainQueue } from '../../../local/queue-poller';
import { disableMetricsOutput } from '../../support/powertools';
import { grant, person, recordingHandler, role, startHarness, type Harness } from './harness';

describe('access provisioning: metrics', () => {
  let h: Harness;
  disableMetricsOutput();
  afterEach(async () => h?.stop());

  it('emits each batch count under its metric name', async () => {
    h = await startHarness();
    const { handler, recorded } = recordingHandler(h, { sailpoint: h.client });
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
