/**
 * Powertools Tracer is in a function's bundle only when the stack traces (lib/bundling.ts): built
 * here with the stack's own esbuild options, then loaded as Lambda would (a fresh Node process).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { entryOf, esbuildOptionsFor } from '../../lib/bundling';
import { functionEnvironment, PLACEHOLDER_REFS } from '../../lib/function-environment';
import { parseStackConfig } from '../../lib/stack-config';

jest.setTimeout(60_000);

const config = parseStackConfig({
  cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' },
  allowIncomplete: true,
});

async function bundle(tracing: boolean): Promise<string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tracer-bundle-')), 'index.js');
  await build(esbuildOptionsFor(entryOf('cognigy-audit'), file, { tracing }));
  return file;
}

const lambdaEnv = (extraEnv: Record<string, string>) => ({
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'cognigy-audit',
  ...functionEnvironment('cognigyAudit', config, PLACEHOLDER_REFS),
  ...extraEnv,
});

/** Loads the bundle the way Lambda's init does; returns the error output, if it failed. */
function coldStart(file: string, extraEnv: Record<string, string>) {
  const result = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], {
    env: lambdaEnv(extraEnv),
    encoding: 'utf8',
  });
  return { ok: result.status === 0, stderr: result.stderr };
}

/** Invokes the bundle's handler once in a fresh process, as Lambda with active tracing would. */
async function tracedInvocation(file: string, daemonPort: number): Promise<void> {
  const invoke = `
    const context = { awsRequestId: 'req-1', functionName: 'cognigy-audit', functionVersion: '1',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cognigy-audit',
      memoryLimitInMB: '256', getRemainingTimeInMillis: () => 10000 };
    require(process.argv[1]).handler({ refused: true }, context).catch(() => {});`;
  const child = spawn(process.execPath, ['-e', invoke, file], {
    env: lambdaEnv({
      POWERTOOLS_TRACE_ENABLED: 'true',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      // What Lambda gives a traced invocation: the trace header, the daemon's address, the task root.
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemonPort}`,
      LAMBDA_TASK_ROOT: '/var/task',
      _HANDLER: 'index.handler',
    }),
    stdio: 'ignore',
  });
  await new Promise((resolve) => child.on('exit', resolve));
}

describe('the tracer in function bundles', () => {
  it('without lambda.tracing: no X-Ray SDK in the bundle; told to trace anyway, the cold start fails naming the setting', async () => {
    const file = await bundle(false);
    const code = readFileSync(file, 'utf8');
    expect(code).not.toContain('AWSXRay');
    expect(coldStart(file, {})).toEqual({ ok: true, stderr: '' });
    const traced = coldStart(file, { POWERTOOLS_TRACE_ENABLED: 'true' });
    expect(traced.ok).toBe(false);
    expect(traced.stderr).toMatch(
      /POWERTOOLS_TRACE_ENABLED: this function was bundled without the tracer: deploy with igaAutopilot\.lambda\.tracing=true/,
    );
  });

  it('with lambda.tracing: Powertools Tracer and the X-Ray SDK are in, and the function starts with tracing on', async () => {
    const file = await bundle(true);
    expect(readFileSync(file, 'utf8')).toContain('AWSXRay');
    expect(
      coldStart(file, { POWERTOOLS_TRACE_ENABLED: 'true', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }),
    ).toMatchObject({ ok: true });
  });

  it('a traced invocation sends its subsegment, with the cold start and the error, to the X-Ray daemon', async () => {
    const file = await bundle(true);
    // A stand-in for the X-Ray daemon: UDP on loopback, as Lambda runs it next to the function.
    const daemon = createSocket('udp4');
    const documents: Record<string, unknown>[] = [];
    let arrived: () => void = () => {};
    const handlerSubsegment = new Promise<void>((resolve) => (arrived = resolve));
    daemon.on('message', (datagram) => {
      const [, body] = datagram.toString().split('\n');
      if (body) documents.push(JSON.parse(body) as Record<string, unknown>);
      arrived();
    });
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    try {
      await tracedInvocation(file, daemon.address().port);
      // A datagram sent just before the process ended may still be on its way over loopback.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        handlerSubsegment,
        new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
      ]);
      clearTimeout(timer);
    } finally {
      daemon.close();
    }
    expect(documents).toContainEqual(
      expect.objectContaining({
        name: '## index.handler',
        trace_id: '1-5759e988-bd862e3fe1be46a994272793',
        parent_id: '53995c3f42cd8ad8',
        annotations: { ColdStart: true, Service: 'cognigy-audit' },
        fault: true,
        cause: expect.objectContaining({
          exceptions: [
            expect.objectContaining({ message: expect.stringMatching(/^cognigy-audit: the event must be/) }),
          ],
        }),
      }),
    );
  });
});
