/**
 * The governance report: one self-contained HTML page plus the same data as CSV files, built from the
 * workflows' DynamoDB tables. Used by the stale-token sweep (S3, on its schedule, when enabled), by
 * `iga report` and by `npm run report` (the local stack).
 *
 *   const { report } = await gatherReport({ doc, tables, now, periodDays: 30, revocation, people });
 *   const page = renderReportHtml(report);        // string, no external resource
 *   const files = reportCsvFiles(report);         // { 'tokens.csv': '…', … }
 *   await writeReportFiles(report, { htmlPath: 'report.html', csvDir: 'csv' });
 *   await publishReport(s3, report, { bucket, prefix: 'reports/' });
 *
 * gather.ts reads (Query on findings, Scan on accessRequests and absences), model.ts decides what the
 * report says (pure), html.ts and csv.ts render it (pure), output.ts writes files or S3 objects.
 */
export * from './model';
export * from './gather';
export { renderReportHtml } from './html';
export { reportCsvFiles, type CsvFiles } from './csv';
export * from './output';
export * from './files';
