/**
 * `iga exemptions list | add | remove | history`: the sweep's exemptions kept as data
 * (functions/stale-token-sweep/exemption-store.ts). The next sweep reads them; no redeploy. The
 * STALE_TOKEN_EXEMPTIONS setting of the deployed function stays a read-only baseline beside them.
 */
import { Command } from 'commander';
import * as z from 'zod';
import {
  isActive,
  compileExemption,
  type ExemptionConfig,
} from '../../functions/stale-token-sweep/exemptions';
import {
  DynamoExemptionStore,
  type StoredExemption,
} from '../../functions/stale-token-sweep/exemption-store';
import { withJson, type CommandContext } from '../context';
import { CliError, line, printJson, printTable, when } from '../io';

export function registerExemptions(program: Command, ctx: CommandContext): void {
  const exemptions = program
    .command('exemptions')
    .description('tokens the stale-token sweep leaves alone: list, add, remove, history');
  const storeOf = async () => {
    const target = await ctx.target();
    return { target, store: new DynamoExemptionStore(target.doc, target.table('findings')) };
  };

  withJson(
    exemptions
      .command('list')
      .description('active exemptions (with --all: expired and removed ones too)')
      .option('--all', 'include expired and removed exemptions'),
  ).action(async (options: { all?: boolean; json?: boolean }) => {
    const { target, store } = await storeOf();
    const now = Date.now();
    const all = (await store.list()).map((e) => ({ ...e, state: stateOf(e, now) }));
    const shown = options.all ? all : all.filter((e) => e.state === 'active');
    if (options.json) return printJson(ctx.io, shown);
    if (shown.length === 0)
      return line(ctx.io, `no ${options.all ? '' : 'active '}exemptions in the ${target.label}`);
    printTable(
      ctx.io,
      ['ID', 'STATE', 'REASON', 'EXPIRES', 'ADDED BY', 'ADDED (UTC)'],
      shown.map((e) => [e.id, e.state, e.reason, e.expires ?? 'never', e.addedBy, when(e.addedAt)]),
    );
  });

  withJson(
    exemptions
      .command('add')
      .description('exempt one token, every token of an owner, or tokens whose name matches a pattern')
      .option('--token-id <id>', 'one token')
      .option('--owner-id <id>', "every token of one identity (e.g. a service account's)")
      .option('--name-pattern <glob>', 'token names matching a glob: * any run, ? one character, any case')
      .requiredOption('--reason <text>', 'why (required: shown in findings and reports)')
      .option('--expires <date>', 'ISO date (protects through that UTC day) or date-time with a zone'),
  ).action(
    async (options: {
      tokenId?: string;
      ownerId?: string;
      namePattern?: string;
      reason: string;
      expires?: string;
      json?: boolean;
    }) => {
      const { store, target } = await storeOf();
      const config = {
        ...(options.tokenId !== undefined ? { tokenId: options.tokenId } : {}),
        ...(options.ownerId !== undefined ? { ownerId: options.ownerId } : {}),
        ...(options.namePattern !== undefined ? { namePattern: options.namePattern } : {}),
        reason: options.reason,
        ...(options.expires !== undefined ? { expires: options.expires } : {}),
      } as ExemptionConfig;
      const added = await store.add(config, await target.whoami()).catch(rethrowReadable);
      if (options.json) return printJson(ctx.io, added);
      line(
        ctx.io,
        `added ${added.id} (${added.reason}; expires ${added.expires ?? 'never'}) — the next sweep applies it`,
      );
    },
  );

  withJson(
    exemptions
      .command('remove')
      .description(
        'end an exemption (it stays in the history); the next sweep treats its tokens like any other',
      )
      .argument('<id>', 'as listed: tokenId:<id>, ownerId:<id> or namePattern:<glob>')
      .option('--reason <text>', 'why, for the history', 'removed with iga'),
  ).action(async (id: string, options: { reason: string; json?: boolean }) => {
    const { store, target } = await storeOf();
    const removed = await store.remove(id, await target.whoami(), options.reason).catch(rethrowReadable);
    if (options.json) return printJson(ctx.io, removed);
    line(ctx.io, `removed ${removed.id} — the next sweep no longer applies it`);
  });

  withJson(
    exemptions
      .command('history')
      .description('the audit trail: every add and remove, who did it and when')
      .argument('[id]', 'one exemption only'),
  ).action(async (id: string | undefined, options: { json?: boolean }) => {
    const { store } = await storeOf();
    const events = (await store.list())
      .filter((e) => id === undefined || e.id === id)
      .flatMap((e) => e.history.map((h) => ({ id: e.id, ...h })))
      .sort((a, b) => a.at.localeCompare(b.at));
    if (options.json) return printJson(ctx.io, events);
    if (events.length === 0) return line(ctx.io, id ? `no history for ${id}` : 'no exemption was ever added');
    printTable(
      ctx.io,
      ['AT (UTC)', 'ACTION', 'ID', 'BY', 'REASON', 'EXPIRES'],
      events.map((h) => [
        when(h.at),
        h.action,
        h.id,
        h.by,
        h.reason,
        h.action === 'added' ? (h.expires ?? 'never') : '',
      ]),
    );
  });
}

function stateOf(e: StoredExemption, nowMs: number): 'active' | 'expired' | 'removed' {
  if (e.status === 'REMOVED') return 'removed';
  const compiled = compileExemption({
    [e.kind]: e.value,
    reason: e.reason,
    ...(e.expires ? { expires: e.expires } : {}),
  });
  return isActive(compiled, nowMs) ? 'active' : 'expired';
}

/** zod's issues as one line naming what to fix; the store's own errors as they are. */
function rethrowReadable(error: unknown): never {
  if (error instanceof z.ZodError) {
    throw new CliError(error.issues.map((i) => i.message).join('; '));
  }
  if (error instanceof Error && error.name === 'ExemptionConflictError') throw new CliError(error.message);
  throw error;
}
