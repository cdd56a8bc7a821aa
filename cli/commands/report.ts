/**
 * `iga report [--out report.html] [--csv dir]`: the governance report (functions/shared/report) from
 * the target's tables — the same page and CSVs the sweep writes to S3 when `report.enabled` is on.
 * Revoke dates follow the sweep function's own settings (STALE_TOKEN_REVOKE, _GRACE_DAYS); absent
 * people and their delegates are named through SailPoint with the sweep's settings (`--no-names`
 * shows identity ids and calls nothing).
 */
import * as z from 'zod';
import type { Command } from 'commander';
import { parseSettings } from '../../functions/shared/config';
import { sailPointOwnerDirectory, type OwnerDirectory } from '../../functions/shared/findings';
import { gatherReport, writeReportFiles } from '../../functions/shared/report';
import { createSailPointClientFromEnv } from '../../functions/shared/sailpoint';
import { withJson, type CommandContext } from '../context';
import { line, printJson } from '../io';
import { messageOf } from '../target';
import { wholeNumber } from './findings';
import { REPORT_POLICY_SETTINGS, revocationOf } from '../../functions/stale-token-sweep/settings';

interface ReportOptions {
  out: string;
  csv?: string;
  periodDays?: number;
  names: boolean;
  json?: boolean;
}

/** The sweep's settings the report follows, with the sweep's own defaults. */
const ReportSettings = z.object(REPORT_POLICY_SETTINGS);

export function registerReport(program: Command, ctx: CommandContext): void {
  withJson(
    program
      .command('report')
      .description('write the governance report (one HTML page, and CSV files with --csv)')
      .option('--out <file>', 'where to write the HTML page', 'report.html')
      .option('--csv <dir>', 'also write the same data as CSV files into this folder')
      .option(
        '--period-days <n>',
        '"in the period": the last N days (default: the sweep\'s REPORT_PERIOD_DAYS, else 30)',
        wholeNumber,
      )
      .option('--no-names', 'show absent people by identity id instead of looking them up in SailPoint'),
  ).action(async (options: ReportOptions) => {
    const target = await ctx.target();
    const env = await target.functionSettings('sweep');
    const settings = parseSettings(ReportSettings, env);
    const people = options.names
      ? await peopleDirectory(env, (note) => ctx.io.err(`iga: ${note}\n`))
      : undefined;

    const { report } = await gatherReport({
      doc: target.doc,
      tables: {
        findings: target.table('findings'),
        accessRequests: target.table('accessRequests'),
        absences: target.table('absences'),
      },
      now: new Date(),
      periodDays: options.periodDays || settings.REPORT_PERIOD_DAYS,
      revocation: revocationOf(settings),
      source: target.label,
      ...(people ? { people } : {}),
    });
    const { written } = await writeReportFiles(report, { htmlPath: options.out, csvDir: options.csv });
    if (options.json) {
      printJson(ctx.io, {
        files: written,
        generatedAt: report.generatedAt,
        period: report.period,
        counts: report.counts,
      });
      return;
    }
    const c = report.counts;
    line(
      ctx.io,
      `report of the ${target.label}, ${report.period.days} days to ${report.generatedAt.slice(0, 16)}Z:`,
    );
    line(
      ctx.io,
      `  tokens   ${c.tokensFlagged} stale and ${c.tokensNeverUsed} never used flagged, ${c.tokensWarned} warned, ` +
        `${c.revokeDueWithin7Days} due for revocation within 7 days; ${c.tokensRevoked} revoked, ${c.tokensResolved} resolved`,
    );
    line(ctx.io, `  cognigy  ${c.cognigyOpen} open finding(s)`);
    line(
      ctx.io,
      `  access   ${c.accessSubmitted} unit(s) submitted, ${c.accessDuplicates} duplicate(s) suppressed, ${c.accessDeadLettered} message(s) dead-lettered`,
    );
    line(ctx.io, `  absences ${c.absencesCurrent} away now, ${c.absencesUpcoming} upcoming`);
    line(ctx.io, `wrote ${written.join(', ')}`);
  });
}

/** SailPoint with the sweep's settings (in AWS: its credentials secret, read with your credentials). */
async function peopleDirectory(
  env: Record<string, string>,
  note: (text: string) => void,
): Promise<OwnerDirectory | undefined> {
  try {
    return sailPointOwnerDirectory(await createSailPointClientFromEnv(env));
  } catch (error) {
    note(
      `absent people are shown by identity id: SailPoint is not reachable with the sweep's settings (${messageOf(error)}); --no-names skips this`,
    );
    return undefined;
  }
}
