/** The one entry point every handler is exported through (functions/shared/lambda.ts). */
import { ConfigError } from '../../../functions/shared/config';
import { PermanentMessageError } from '../../../functions/shared/failure-policy';
import { handlerTools, lambdaEntryPoint } from '../../../functions/shared/lambda';
import { fakeContext } from '../../../local/queue-poller';
import { disableMetricsOutput, logLines, withEnvironmentVariable } from '../../support/powertools';

const env = { LOG_LEVEL: 'INFO' };

describe('lambdaEntryPoint', () => {
  disableMetricsOutput();
  // What Lambda sets on an on-demand instance; Powertools reports cold_start only then.
  withEnvironmentVariable('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');

  it('logs every line with the Lambda context: request id, cold start (true once), function name', async () => {
    const handler = lambdaEntryPoint(
      {
        service: 'entry-test',
        init: (tools) => tools,
        start: (tools) => async (event: { n: number }) => {
          tools.log.info('working', { n: event.n });
          return event.n;
        },
      },
      env,
    );
    const first = fakeContext('entry-test');
    const second = fakeContext('entry-test');
    const logged = await logLines(async () => {
      expect(await handler({ n: 1 }, first)).toBe(1);
      expect(await handler({ n: 2 }, second)).toBe(2);
    });
    const working = logged.filter((line) => line.message === 'working');
    expect(working).toEqual([
      expect.objectContaining({
        service: 'entry-test',
        function_request_id: first.awsRequestId,
        function_name: 'entry-test',
        cold_start: true,
        n: 1,
      }),
      expect.objectContaining({ function_request_id: second.awsRequestId, cold_start: false, n: 2 }),
    ]);
  });

  it('outside Lambda runs init on the first call; in Lambda at construction, so a bad setting fails the cold start', () => {
    const init = jest.fn(() => {
      throw new ConfigError([{ setting: 'SOME_SETTING', message: 'is required' }]);
    });
    const entry = { service: 'entry-test', init, start: () => async () => 'never' };
    lambdaEntryPoint(entry, env);
    expect(init).not.toHaveBeenCalled();
    expect(() => lambdaEntryPoint(entry, { ...env, AWS_LAMBDA_FUNCTION_NAME: 'fn' })).toThrow(
      /SOME_SETTING: is required/,
    );
  });

  it('a failed start (e.g. a secret read) is not kept: the next invocation starts again', async () => {
    let attempts = 0;
    const start = jest.fn(async () => {
      attempts++;
      if (attempts === 1) throw new Error('Secrets Manager unavailable');
      return async () => 'ok';
    });
    const handler = lambdaEntryPoint({ service: 'entry-test', init: () => undefined, start }, env);
    await logLines(async () => {
      await expect(handler({}, fakeContext('entry-test'))).rejects.toThrow('Secrets Manager unavailable');
      await expect(handler({}, fakeContext('entry-test'))).resolves.toBe('ok');
      await expect(handler({}, fakeContext('entry-test'))).resolves.toBe('ok');
    });
    expect(start).toHaveBeenCalledTimes(2);
  });

  it('a failed invocation is logged once with what the shared failure policy makes of it, then rethrown', async () => {
    const handler = lambdaEntryPoint(
      {
        service: 'entry-test',
        init: () => undefined,
        start: () => async () => {
          throw new PermanentMessageError('the payload is refused');
        },
      },
      env,
    );
    let thrown: unknown;
    const logged = await logLines(async () => {
      thrown = await handler({}, fakeContext('entry-test')).catch((e: unknown) => e);
    });
    expect(thrown).toBeInstanceOf(PermanentMessageError);
    expect(logged.filter((line) => line.message === 'invocation failed')).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        failure: { action: 'dead-letter', reason: 'the payload is refused' },
      }),
    ]);
  });

  it('flushes metrics after every invocation, failed ones too', async () => {
    const tools = handlerTools('entry-test', env);
    const flush = jest.spyOn(tools.metrics, 'publishStoredMetrics');
    let fail = false;
    const handler = lambdaEntryPoint(
      {
        service: 'entry-test',
        init: () => undefined,
        start: () => async () => {
          if (fail) throw new Error('boom');
          return 'ok';
        },
      },
      env,
      tools,
    );
    await logLines(async () => {
      await handler({}, fakeContext('entry-test'));
      fail = true;
      await handler({}, fakeContext('entry-test')).catch(() => undefined);
    });
    expect(flush).toHaveBeenCalledTimes(2);
  });

  it('tracing is off unless POWERTOOLS_TRACE_ENABLED is true; a bad value or log level is refused by name', () => {
    expect(handlerTools('entry-test', env).tracer).toBeUndefined();
    expect(handlerTools('entry-test', { ...env, POWERTOOLS_TRACE_ENABLED: 'false' }).tracer).toBeUndefined();
    expect(handlerTools('entry-test', { ...env, POWERTOOLS_TRACE_ENABLED: 'true' }).tracer).toBeDefined();
    expect(() => handlerTools('entry-test', { POWERTOOLS_TRACE_ENABLED: 'on' })).toThrow(
      /POWERTOOLS_TRACE_ENABLED: must be true or false/,
    );
    expect(() => handlerTools('entry-test', { LOG_LEVEL: 'LOUD' })).toThrow(/LOG_LEVEL: must be one of/);
    expect(handlerTools('entry-test', { LOG_LEVEL: 'debug' }).logger.getLevelName()).toBe('DEBUG');
  });
});
