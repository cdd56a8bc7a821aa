/** Powertools in tests: metrics recorded in memory instead of printed as EMF. */
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Sets an environment variable for the enclosing describe block and puts the previous value back afterwards. */
export function withEnvironmentVariable(name: string, value: string): void {
  let previous: string | undefined;
  beforeAll(() => {
    previous = process.env[name];
    process.env[name] = value;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  });
}

/** POWERTOOLS_METRICS_DISABLED for the enclosing describe block: no EMF lines in the test output. */
export function disableMetricsOutput(): void {
  withEnvironmentVariable('POWERTOOLS_METRICS_DISABLED', 'true');
}

/** A Metrics whose addMetric adds each value to `recorded[name]`. */
export function recordingMetrics(serviceName: string): {
  metrics: Metrics;
  recorded: Record<string, number>;
} {
  const metrics = new Metrics({ namespace: 'Test', serviceName });
  const recorded: Record<string, number> = {};
  jest.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
    recorded[name] = (recorded[name] ?? 0) + value;
    return metrics;
  });
  return { metrics, recorded };
}
