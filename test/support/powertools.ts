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

/**
 * Powertools' JSON log lines written while `run` runs (ERROR lines go to stderr, the others to
 * stdout); an error `run` throws is swallowed (a test asserts on what was logged).
 */
export async function logLines(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const record = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(record),
    jest.spyOn(process.stderr, 'write').mockImplementation(record),
  ];
  try {
    await run().catch(() => undefined);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
