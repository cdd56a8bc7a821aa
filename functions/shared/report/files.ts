/**
 * The report's file names: the page and one CSV per table. Fixed names, so S3 keeps each report as a
 * new version of the same objects and the sweep's grant names exact objects (lib/constructs/report-bucket.ts).
 */
export const REPORT_HTML = 'report.html';

/** Key prefix of the report objects: the sweep's REPORT_PREFIX default, and what the stack sets. */
export const DEFAULT_REPORT_PREFIX = 'reports/';

export const CSV_FILES = [
  'summary.csv',
  'tokens.csv',
  'closed-tokens.csv',
  'cognigy-findings.csv',
  'access-requests.csv',
  'dead-letters.csv',
  'absences.csv',
] as const;
export type CsvFileName = (typeof CSV_FILES)[number];

/** Every object key a report is written to under `prefix` (the HTML first). */
export function reportObjectKeys(prefix: string): string[] {
  return [`${prefix}${REPORT_HTML}`, ...CSV_FILES.map((name) => `${prefix}csv/${name}`)];
}
