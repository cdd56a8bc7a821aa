/**
 * Issue #9: `cdk synth` refuses, naming the setting, a combination of batch size, timeout, time
 * reserve, concurrency and budget with which access provisioning could not make progress.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../../lib/bundling';
import { parseStackConfig, StackConfigError } from '../../lib/stack-config';

/** The problems of a config (for a tenant: an incomplete stack is refused for that alone). */
function problemsOf(input: Record<string, unknown>): string[] {
  try {
    parseStackConfig({ ...input, sailPoint: { tenant: 'acme', ...(input.sailPoint as object) } });
  } catch (error) {
    if (error instanceof StackConfigError) return error.problems.map((p) => `${p.setting}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('access provisioning can make progress', () => {
  test('the defaults, and a large batch with time and budget for it, pass', () => {
    expect(problemsOf({})).toEqual([]);
    expect(
      problemsOf({
        accessProvisioning: { batchSize: 5000, maxBatchingWindowSeconds: 10, timeoutSeconds: 300 },
      }),
    ).toEqual([]);
  });

  test('a batch that leaves no time for SailPoint calls is refused, naming the batch size', () => {
    expect(
      problemsOf({
        accessProvisioning: { batchSize: 10_000, maxBatchingWindowSeconds: 5, timeoutSeconds: 25 },
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^igaAutopilot\.accessProvisioning\.batchSize: a batch of 10000 leaves no time for SailPoint calls: .*timeoutSeconds \(25 s\) less .*TIME_RESERVE_SECONDS \(10 s\)/,
        ),
      ]),
    );
  });

  test('a budget too small for one chunk of work in an invocation is refused, naming the budget', () => {
    // 12 requests per 10 s over 6 concurrent callers: 2 per instance; 20 s less a 10 s reserve and
    // 5 s to settle a batch of 1,000: 1 call.
    expect(
      problemsOf({
        sailPoint: { requestsPer10s: 12 },
        accessProvisioning: { timeoutSeconds: 20, batchSize: 1000 },
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^igaAutopilot\.sailPoint\.requestsPer10s: 2 requests per 10 s per instance allow 1 SailPoint call\(s\)/,
        ),
      ]),
    );
  });

  test('`cdk synth` exits non-zero naming the setting', () => {
    const result = spawnSync(
      process.execPath,
      [path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO_ROOT, 'bin', 'app.ts')],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          CDK_CONTEXT_JSON: JSON.stringify({
            'igaAutopilot.sailPoint.tenant': 'acme',
            'igaAutopilot.accessProvisioning.batchSize': '10000',
            'igaAutopilot.accessProvisioning.timeoutSeconds': '25',
          }),
        },
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'igaAutopilot.accessProvisioning.batchSize: a batch of 10000 leaves no time',
    );
  });
});
