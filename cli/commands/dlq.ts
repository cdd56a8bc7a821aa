/**
 * `iga dlq list <workflow>` and `iga dlq redrive <workflow>`: a workflow's dead letters, and sending
 * them back to its work queue once the cause is fixed (cli/dead-letter-queue.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { QueueWorkflowName } from '../../local/stack';
import { withJson, type CommandContext } from '../context';
import { listDeadLetters, parseFilter, redriveDeadLetters, type DeadLetterView } from '../dead-letter-queue';
import { CliError, line, printJson, printTable, when, type Io } from '../io';

const WORKFLOW_NAMES: Record<string, QueueWorkflowName> = {
  access: 'access',
  'access-provisioning': 'access',
  absence: 'absence',
  'absence-reassignment': 'absence',
};

function workflowArgument(value: string): QueueWorkflowName {
  const workflow = WORKFLOW_NAMES[value];
  if (!workflow) throw new InvalidArgumentError('choose access or absence');
  return workflow;
}

export function registerDlq(program: Command, ctx: CommandContext): void {
  const dlq = program.command('dlq').description("a queue-fed workflow's dead letters: list, redrive");

  withJson(
    dlq
      .command('list')
      .description('each dead letter with its reason, requestId, first and last attempt')
      .argument('<workflow>', 'access or absence', workflowArgument),
  ).action(async (workflow: QueueWorkflowName, options: { json?: boolean }) => {
    const target = await ctx.target();
    const views = await listDeadLetters(target.sqs, target.queues(workflow).deadLetterQueueUrl);
    if (options.json) return printJson(ctx.io, views);
    if (views.length === 0) return line(ctx.io, `no dead letters for ${workflow} in the ${target.label}`);
    printViews(ctx.io, views);
    line(
      ctx.io,
      `${views.length} dead letter(s); move them back with: iga dlq redrive ${workflow} [--filter …] [--dry-run]`,
    );
  });

  withJson(
    dlq
      .command('redrive')
      .description(
        'send dead letters back to the work queue with their original body and attributes; ' +
          "safe to run twice: the workflow's deduplication decides",
      )
      .argument('<workflow>', 'access or absence', workflowArgument)
      .option(
        '--filter <expression>',
        'only these: field=value or field~text over reason, requestId, messageId, group, body; or a bare text',
      )
      .option('--dry-run', 'say what would be moved, move nothing'),
  ).action(
    async (workflow: QueueWorkflowName, options: { filter?: string; dryRun?: boolean; json?: boolean }) => {
      let filter: ((view: DeadLetterView) => boolean) | undefined;
      try {
        filter = options.filter === undefined ? undefined : parseFilter(options.filter);
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      const target = await ctx.target();
      const result = await redriveDeadLetters(target.sqs, target.queues(workflow), {
        ...(filter ? { filter } : {}),
        dryRun: options.dryRun ?? false,
      });
      if (result.failed.length) ctx.fail();
      if (options.json) return printJson(ctx.io, { workflow, dryRun: options.dryRun ?? false, ...result });
      const shown = options.dryRun ? result.wouldMove : result.moved;
      line(
        ctx.io,
        options.dryRun
          ? `dry run: would move ${shown.length} dead letter(s) back to the ${workflow} queue`
          : `moved ${shown.length} dead letter(s) back to the ${workflow} queue`,
      );
      printViews(ctx.io, shown);
      if (result.left)
        line(
          ctx.io,
          `${result.left} left in the dead-letter queue (not matching, or newer than this redrive)`,
        );
      for (const { view, error } of result.failed) {
        line(
          ctx.io,
          `FAILED ${view.sourceMessageId ?? view.dlqMessageId}: ${error} (left in the dead-letter queue)`,
        );
      }
    },
  );
}

function printViews(io: Io, views: readonly DeadLetterView[]): void {
  printTable(
    io,
    ['REQUEST ID', 'SOURCE MESSAGE', 'REASON', 'FIRST ATTEMPT', 'LAST ATTEMPT', 'RECEIVES'],
    views.map((v) => [
      v.requestId,
      v.sourceMessageId ?? v.dlqMessageId,
      v.reason,
      when(v.firstAttempt),
      when(v.lastAttempt),
      v.receiveCount,
    ]),
    60,
  );
}
