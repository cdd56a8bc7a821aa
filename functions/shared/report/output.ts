/**
 * Where a report goes: files on disk (`iga report`, `npm run report`) or S3 objects (the sweep).
 *
 * S3: <prefix>report.html and <prefix>csv/<name>.csv (files.ts), in a versioned bucket: the current
 * version is the latest report, earlier reports are its older versions.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { reportCsvFiles } from './csv';
import { CSV_FILES, reportObjectKeys } from './files';
import { renderReportHtml } from './html';
import type { ReportData } from './model';

export interface WrittenReport {
  /** Paths (files) or keys (S3) written, the HTML first. */
  readonly written: readonly string[];
}

export async function writeReportFiles(
  report: ReportData,
  target: { readonly htmlPath?: string; readonly csvDir?: string },
): Promise<WrittenReport> {
  const written: string[] = [];
  if (target.htmlPath) {
    await mkdir(path.dirname(target.htmlPath), { recursive: true });
    await writeFile(target.htmlPath, renderReportHtml(report), 'utf8');
    written.push(target.htmlPath);
  }
  if (target.csvDir) {
    await mkdir(target.csvDir, { recursive: true });
    for (const [name, content] of Object.entries(reportCsvFiles(report))) {
      const file = path.join(target.csvDir, name);
      await writeFile(file, content, 'utf8');
      written.push(file);
    }
  }
  return { written };
}

/**
 * Writes the page and the CSVs to fixed keys under the prefix. The bucket is versioned: each run's
 * report becomes the current version, earlier ones stay as versions until the lifecycle rule expires
 * them. Each object says when its report was generated (metadata `generated-at`).
 */
export async function publishReport(
  s3: S3Client,
  report: ReportData,
  target: { readonly bucket: string; readonly prefix: string },
): Promise<WrittenReport> {
  const [htmlKey, ...csvKeys] = reportObjectKeys(target.prefix);
  const csv = reportCsvFiles(report);
  const objects = [
    { key: htmlKey!, body: renderReportHtml(report), contentType: 'text/html; charset=utf-8' },
    ...CSV_FILES.map((name, i) => ({
      key: csvKeys[i]!,
      body: csv[name],
      contentType: 'text/csv; charset=utf-8',
    })),
  ];
  for (const object of objects) {
    await s3.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType,
        Metadata: { 'generated-at': report.generatedAt },
      }),
    );
  }
  return { written: objects.map((o) => o.key) };
}
