/**
 * `npm run report`: the governance report from the local stack, without AWS. Starts the sandbox
 * tenant and the DynamoDB/SQS emulators in this process (as `npm start` does), runs the workflows
 * (local/report-scenario.ts), and writes the report as the sweep would to S3:
 *
 *   npm run report                                   artifacts/report/report.html + artifacts/report/csv/
 *   npm run report -- --out report.html --csv csv    elsewhere
 *   npm run report -- --screenshot docs/report.png   also a PNG of the page's top (needs Chromium)
 */
import { parseArgs } from 'node:util';
import { createDocumentClient } from '../functions/shared/aws';
import { sailPointOwnerDirectory } from '../functions/shared/findings';
import { gatherReport, writeReportFiles } from '../functions/shared/report';
import { createSailPointClientFromEnv } from '../functions/shared/sailpoint';
import { screenshotFile } from '../local/browser';
import { runReportScenario, SCENARIO_REVOCATION } from '../local/report-scenario';
import { startLocalStack } from '../local/stack';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'artifacts/report/report.html' },
      csv: { type: 'string', default: 'artifacts/report/csv' },
      'period-days': { type: 'string', default: '30' },
      /** A PNG of the page's top (Chromium): how the README's picture is made. */
      screenshot: { type: 'string' },
    },
  });
  const periodDays = Number(values['period-days']);
  if (!/^\d+$/.test(values['period-days']) || periodDays < 1) {
    throw new Error('--period-days must be a whole number of at least 1');
  }

  const print = (line: string) => process.stdout.write(`${line}\n`);
  Object.assign(process.env, {
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_DEV: 'true',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT',
  });
  const stack = await startLocalStack({ prefix: 'report' });
  try {
    const local = stack.environment(print);
    const { env, tables } = local;
    print('IGA Autopilot — report from the local stack (sandbox tenant, dynalite, fauxqs)');
    await runReportScenario(local);

    const client = await createSailPointClientFromEnv(env);
    const { report, stats } = await gatherReport({
      doc: createDocumentClient(),
      tables,
      now: new Date(),
      periodDays,
      revocation: SCENARIO_REVOCATION,
      source: 'local sandbox tenant (npm run report)',
      people: sailPointOwnerDirectory(client),
    });
    const { written } = await writeReportFiles(report, { htmlPath: values.out, csvDir: values.csv });
    const c = report.counts;
    print('');
    print(
      `  ${c.tokensFlagged} stale + ${c.tokensNeverUsed} never-used token(s) flagged, ${c.tokensWarned} warned, ` +
        `${c.tokensRevoked} revoked and ${c.tokensResolved} resolved in ${periodDays} days; ${c.cognigyOpen} Cognigy finding(s); ` +
        `${c.accessSubmitted} access unit(s) submitted, ${c.accessDuplicates} duplicate(s), ${c.accessDeadLettered} dead letter(s); ` +
        `${c.absencesCurrent} away now, ${c.absencesUpcoming} upcoming`,
    );
    print(
      `  read with ${stats.queries} query page(s), ${stats.scanPages} scan page(s) over ${stats.itemsScanned} item(s), ` +
        `${stats.peopleLookedUp} people looked up`,
    );
    print(`  wrote ${written[0]} and ${written.length - 1} CSV file(s) in ${values.csv}`);
    if (values.screenshot) {
      await screenshotFile(values.out, values.screenshot, 1250);
      print(`  screenshot ${values.screenshot}`);
    }
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `\nnpm run report failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
