/**
 * `iga absences <identityId>`: a person's recorded absences, the reassignment configurations
 * SailPoint holds for each (as of the last reconciliation), and what the daily re-check will do.
 */
import type { Command } from 'commander';
import { DynamoAbsenceStore } from '../../functions/absence-reassignment/absence-store';
import type { AbsenceRecord } from '../../functions/absence-reassignment/model';
import { withJson, type CommandContext } from '../context';
import { CliError, line, printJson, printTable, when } from '../io';

export function registerAbsences(program: Command, ctx: CommandContext): void {
  withJson(
    program
      .command('absences')
      .description("a person's absences, the configurations held for them, and what the re-check will do")
      .argument('<identityId>', 'the absent person'),
  ).action(async (identityId: string, options: { json?: boolean }) => {
    const target = await ctx.target();
    // Reads only: the retention (an expiry for writes) plays no part.
    const store = new DynamoAbsenceStore(target.doc, target.table('absences'), 0);
    const now = new Date();
    const [absences, reconcile] = await Promise.all([
      store.listForIdentity(identityId),
      store.reconcileState(identityId, now.toISOString()),
    ]);
    if (absences.length === 0 && !reconcile.unfinished) {
      throw new CliError(`no absences recorded for ${identityId} in the ${target.label}`);
    }
    const rows = absences.map((a) => ({ ...a, recheck: recheckOf(a, reconcile.unfinished) }));
    if (options.json) {
      printJson(ctx.io, { identityId, unfinishedReconciliation: reconcile.unfinished, absences: rows });
      return;
    }
    printTable(
      ctx.io,
      ['ABSENCE', 'STATUS', 'FROM', 'UNTIL', 'DELEGATE', 'CONFIGURATIONS HELD', 'RE-CHECK', 'LAST DECISION'],
      rows.map((a) => [
        a.absenceId,
        a.status,
        when(a.startDate)?.slice(0, 10),
        a.endDate ? when(a.endDate)?.slice(0, 10) : 'open-ended',
        a.delegateId,
        configurationsOf(a),
        a.recheck,
        a.decision,
      ]),
      60,
    );
    if (reconcile.unfinished) {
      line(
        ctx.io,
        'an interrupted reconciliation is pending: the next delivery or the daily re-check finishes it',
      );
    }
  });
}

function configurationsOf(a: AbsenceRecord): string {
  const held = Object.entries(a.configurations).map(([type, c]) => `${type} → ${c!.reassignedToId}`);
  return held.length ? held.join('; ') : 'none';
}

function recheckOf(a: AbsenceRecord, unfinished: boolean): string {
  if (a.deferred) {
    const from = a.deferredUntil ? ` from ${when(a.deferredUntil)} UTC` : '';
    return `applies it once the slot frees${from} (${a.deferred})`;
  }
  if (unfinished) return 'finishes the interrupted reconciliation';
  return 'nothing to do';
}
