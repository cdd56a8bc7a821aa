/**
 * The `iga` CLI against a local stack, over the wire: the stack of `npm run dev` (local/stack.ts) on the
 * tests' emulators with its own sandbox tenant (rate limit on, as by default), its state file in a
 * temporary folder, and `run(argv, io)` in-process with IGA_LOCAL_STATE pointing at it. State comes
 * from the real workflows: messages go through the work queues and the real handlers (drained
 * explicitly instead of by background pollers, so nothing depends on timing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { run } from '../../../cli/main';
import type { Io } from '../../../cli/io';
import {
  startLocalStack,
  writeStateFile,
  type LocalStack,
  type LocalStackDescription,
  type QueueWorkflowName,
} from '../../../local/stack';
import { dynamoEndpoint, sqsEndpoint, uniqueName } from '../../support/emulators';

export interface IgaResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** stdout parsed as JSON (for `--json` commands). */
  json<T = unknown>(): T;
}

export interface CliHarness {
  readonly stack: LocalStack;
  readonly description: LocalStackDescription;
  readonly stateFile: string;
  iga(...argv: string[]): Promise<IgaResult>;
  send(
    workflow: QueueWorkflowName,
    body: unknown,
    attributes?: Record<string, MessageAttributeValue>,
  ): Promise<string>;
  stop(): Promise<void>;
}

export async function startCliHarness(): Promise<CliHarness> {
  const stack = await startLocalStack({
    dynamoEndpoint: dynamoEndpoint(),
    sqsEndpoint: sqsEndpoint(),
    prefix: uniqueName('cli'),
  });
  const description = await stack.provision();
  const dir = mkdtempSync(join(tmpdir(), 'iga-cli-'));
  const stateFile = join(dir, 'dev-stack.json');
  writeStateFile(description, stateFile);

  return {
    stack,
    description,
    stateFile,
    async iga(...argv) {
      let out = '';
      let err = '';
      const io: Io = { out: (text) => (out += text), err: (text) => (err += text) };
      const code = await run(['--local', ...argv], io, { env: { IGA_LOCAL_STATE: stateFile } });
      return { code, out, err, json: <T>() => JSON.parse(out) as T };
    },
    async send(workflow, body, attributes) {
      const fifo = workflow === 'absence';
      const result = await stack.sqs.send(
        new SendMessageCommand({
          QueueUrl: description.queues[workflow].queueUrl,
          MessageBody: JSON.stringify(body),
          ...(attributes ? { MessageAttributes: attributes } : {}),
          ...(fifo
            ? {
                MessageGroupId: (body as { identityId: string }).identityId,
                MessageDeduplicationId: uniqueName('dedup'),
              }
            : {}),
        }),
      );
      return result.MessageId!;
    },
    async stop() {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
