/**
 * `iga status <requestId | messageId>`: what became of an access-request message — per unit, with
 * its receive history and the access-request ids SailPoint returned — from the outcome records the
 * access-provisioning function writes (the byRequestId index, else the message id).
 */
import type { Command } from 'commander';
import { DynamoProvisioningStore, type StoredOutcome } from '../../functions/access-provisioning/state-store';
import { withJson, type CommandContext } from '../context';
import { CliError, line, printJson, printTable, when } from '../io';

export function registerStatus(program: Command, ctx: CommandContext): void {
  withJson(
    program
      .command('status')
      .description(
        "an access-request message's outcome: per unit, its history, SailPoint's access-request ids",
      )
      .argument('<id>', "the producer's requestId (e.g. HR-1001) or the SQS message id"),
  ).action(async (id: string, options: { json?: boolean }) => {
    const target = await ctx.target();
    const store = new DynamoProvisioningStore(target.doc, target.table('accessRequests'));
    let outcomes = await store.outcomesOfRequest(id);
    if (outcomes.length === 0) {
      const byMessage = await store.outcomeOfMessage(id);
      if (byMessage) outcomes = [byMessage];
    }
    if (outcomes.length === 0) {
      throw new CliError(
        `no access-request message with requestId or message id "${id}" in the ${target.label}`,
      );
    }
    outcomes = [...outcomes].sort((a, b) => a.firstSeenAt - b.firstSeenAt);
    if (options.json) {
      printJson(ctx.io, { id, messages: outcomes.map(outcomeJson) });
      return;
    }
    for (const outcome of outcomes) printOutcome(ctx, outcome);
  });
}

function outcomeJson(o: StoredOutcome) {
  return {
    ...o,
    firstSeenAt: new Date(o.firstSeenAt).toISOString(),
    updatedAt: new Date(o.updatedAt).toISOString(),
  };
}

function printOutcome(ctx: CommandContext, o: StoredOutcome): void {
  const { io } = ctx;
  const receives = `${o.receiveCount} receive${o.receiveCount === 1 ? '' : 's'}`;
  line(io, `${o.requestId ?? '(no requestId)'}  message ${o.messageId}`);
  line(
    io,
    `  ${o.status.toUpperCase()} after ${receives}; first seen ${when(o.firstSeenAt)}, last ${when(o.updatedAt)} UTC`,
  );
  if (o.reason) line(io, `  reason: ${o.reason}`);
  if (o.units.length) {
    line(io);
    printTable(
      io,
      ['OUTCOME', 'REQUEST', 'IDENTITY', 'ITEM', 'ACCESS REQUEST IDS', 'DETAIL'],
      o.units.map((u) => [
        u.outcome,
        u.requestType,
        u.identityId,
        `${u.itemType} ${u.itemId}`,
        u.accessRequestIds?.join(', '),
        u.detail,
      ]),
    );
  }
  line(io);
  printTable(
    io,
    ['AT (UTC)', 'STATUS', 'RECEIVE', 'REASON'],
    o.history.map((h) => [when(h.at), h.status, h.receiveCount, h.reason]),
  );
  line(io);
}
