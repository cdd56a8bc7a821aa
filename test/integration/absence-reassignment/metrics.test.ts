/** The handler's batch counts reach CloudWatch as PascalCase metrics, the names the dashboard shows. */
import { createAbsenceReassignmentHandler } from '../../../functions/absence-reassignment/handler';
import { drainQueue } from '../../../local/queue-poller';
import { disableMetricsOutput, recordingMetrics } from '../../support/powertools';
import { absenceEvent, absenceHarness, type AbsenceHarness } from './harness';

describe('absence reassignment: metrics', () => {
  let h: AbsenceHarness;
  disableMetricsOutput();
  afterEach(() => h?.stop());

  it('emits each batch count under its metric name', async () => {
    h = await absenceHarness();
    const { metrics, recorded } = recordingMetrics('absence-reassignment');
    const handler = createAbsenceReassignmentHandler({ ...h.deps, metrics });
    const start = absenceEvent();
    await h.send(start, start, 'not json');
    await drainQueue({ sqs: h.deps.sqs, queueUrl: h.deps.queueUrl, handler, timeoutMs: 15_000 });

    expect(recorded).toMatchObject({
      Configured: 1,
      DuplicatesSuppressed: 1,
      ConfigurationsCreated: 3,
      DeadLettered: 1,
      Retried: 0,
    });
    expect(Object.keys(recorded).filter((name) => !/^[A-Z][A-Za-z]+$/.test(name))).toEqual([]);
  });
});
