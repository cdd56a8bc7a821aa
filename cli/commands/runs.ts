/**
 * `iga sweep [--dry-run]` and `iga audit`: run the stale-token sweep or the Cognigy audit now, as the
 * schedule does (in AWS: invoke the function; locally: its handler in this process), and print the
 * run's summary. A failed run exits with 1 after printing what it could.
 */
import type { Command } from 'commander';
import type { CognigyAuditSummary } from '../../functions/cognigy-audit/audit';
import type { SweepSummary, TokenRef } from '../../functions/stale-token-sweep/sweep';
import { withJson, type CommandContext } from '../context';
import { line, printJson, printTable, type Io } from '../io';
import type { RunName, RunResult } from '../local-runs';

export function registerRuns(program: Command, ctx: CommandContext): void {
  withJson(
    program
      .command('sweep')
      .description('run the stale-token sweep now and print its summary')
      .option('--dry-run', 'revoke nothing, even when revocation is on: list what would be revoked'),
  ).action(async (options: { dryRun?: boolean; json?: boolean }) => {
    const payload = options.dryRun ? { dryRun: true } : {};
    await runAndReport(ctx, 'sweep', payload, options.json, (summary) =>
      printSweep(ctx.io, summary as SweepSummary),
    );
  });

  withJson(
    program.command('audit').description('run the Cognigy.AI credential audit now and print its summary'),
  ).action(async (options: { json?: boolean }) => {
    await runAndReport(ctx, 'audit', { trigger: 'iga' }, options.json, (summary) =>
      printAudit(ctx.io, summary as CognigyAuditSummary),
    );
  });
}

async function runAndReport(
  ctx: CommandContext,
  name: RunName,
  payload: Record<string, unknown>,
  json: boolean | undefined,
  print: (summary: unknown) => void,
): Promise<void> {
  const target = await ctx.target();
  const result: RunResult = await target.run(name, payload);
  if (!result.ok) ctx.fail();
  if (json) return printJson(ctx.io, result);
  if (result.summary) print(result.summary);
  if (!result.ok) line(ctx.io, `FAILED: ${result.error}`);
}

function printSweep(io: Io, s: SweepSummary): void {
  const c = s.counts;
  line(
    io,
    `sweep ${s.runId}: ${s.status} (${s.mode}) — ${c.tokensFetched} candidate token(s), ${c.sailPointCalls} SailPoint call(s)`,
  );
  line(
    io,
    `  verdicts  ${c.flagged} flagged · ${c.warned} warned · ${c.exempt} exempt · ${c.excludedManaged} managed (excluded)`,
  );
  line(
    io,
    `  changes   ${c.newFindings} new · ${c.escalated} escalated · ${c.exempted} exempted · ${c.resolved} resolved · ` +
      `${c.revoked} revoked · ${c.wouldRevoke} would be revoked · ${c.notified} notified · ${c.findingWrites} write(s)`,
  );
  tokens(io, 'new findings', s.newFindings);
  tokens(io, 'would revoke (dry run)', s.wouldRevoke);
  tokens(io, 'revoked', s.revoked);
  for (const error of s.errors) line(io, `  error: ${error}`);
}

function tokens(io: Io, title: string, refs: readonly TokenRef[]): void {
  if (refs.length === 0) return;
  line(io);
  line(io, `${title}:`);
  printTable(
    io,
    ['TOKEN', 'OWNER', 'STATUS', 'REASON', 'LAST USED', 'ID'],
    refs.map((t) => [
      t.name,
      t.ownerName ?? t.ownerId,
      t.status,
      t.reason,
      t.lastUsed?.slice(0, 10) ?? 'never',
      t.tokenId,
    ]),
  );
}

function printAudit(io: Io, s: CognigyAuditSummary): void {
  const p = s.privilege.findings;
  line(
    io,
    `audit ${s.runId}: preflight ${s.preflight.passed ? 'passed' : `FAILED (missing ${s.preflight.missing.join(', ')})`}`,
  );
  line(
    io,
    `  over-privileged scopes ${s.privilege.overPrivileged.length}; privilege findings ${p.opened} opened, ${p.resolved} resolved`,
  );
  if (s.apiKeys.checked) {
    const k = s.apiKeys;
    line(
      io,
      `  API keys ${k.total} (${k.flagged} flagged, ${k.warned} warned${k.multipleActive ? ', more than one active' : ''}); key findings ${k.findings.opened} opened, ${k.findings.resolved} resolved`,
    );
  } else {
    line(io, `  API keys not checked: ${s.apiKeys.reason}`);
  }
  line(io, `  notifications ${s.notifications.sent} sent, ${s.notifications.failed} failed`);
  for (const failure of s.failures) line(io, `  error: ${failure}`);
}
