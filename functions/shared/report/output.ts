/**
 * Where a report goes: files on disk (`iga report`, `npm run report`) or S3 objects (the sweep).
 *
 * S3 layout under the prefix, one folder per UTC day (a second run that day replaces it) and a
 * `latest/` copy to bookmark:
 *   <prefix>2025-06-15/report.html   <prefix>2025-06-15/csv/tokens.csv …
 *   <prefix>latest/report.html       <prefix>latest/csv/tokens.csv …
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { reportCsvFiles } from './csv';
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

export async function publishReport(
  s3: S3Client,
  report: ReportData,
  target: { readonly bucket: string; readonly prefix: string },
): Promise<WrittenReport> {
  const objects: { name: string; body: string; contentType: string }[] = [
    { name: 'report.html', body: renderReportHtml(report), contentType: 'text/html; charset=utf-8' },
    ...Object.entries(reportCsvFiles(report)).map(([name, body]) => ({
      name: `csv/${name}`,
      body,
      contentType: 'text/csv; charset=utf-8',
    })),
  ];
  const written: string[] = [];
  for (const folder of [report.generatedAt.slice(0, 10), 'latest']) {
    for (const object of objects) {
      const key = `${target.prefix}${folder}/${object.name}`;
      await s3.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          Body: object.body,
          ContentType: object.contentType,
        }),
      );
      written.push(key);
    }
  }
  return { written };
}
