/**
 * The HTML report opened in a real headless Chromium, from a file with the network cut off, over
 * state the real workflows stored (fixture.ts): what a person sees — a row per open token finding,
 * the counts, the dead letters, the absences — and a screenshot left in artifacts/test/.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { sailPointOwnerDirectory } from '../../../functions/shared/findings';
import { gatherReport, writeReportFiles, type ReportData } from '../../../functions/shared/report';
import { ARTIFACTS_DIR, chromiumAvailable, launchChromium } from '../../../local/browser';
import { disableMetricsOutput } from '../../support/powertools';
import { buildReportFixture, REVOCATION, TOKENS, type ReportFixture } from './fixture';

jest.setTimeout(90_000);

const describeIfBrowser = chromiumAvailable() ? describe : describe.skip;

describeIfBrowser('the report in a browser', () => {
  disableMetricsOutput();
  let fixture: ReportFixture;
  let report: ReportData;
  let page: Page;
  let close: () => Promise<void>;
  const blocked: string[] = [];
  const errors: string[] = [];
  const htmlPath = path.join(ARTIFACTS_DIR, 'report.html');
  const screenshotPath = path.join(ARTIFACTS_DIR, 'report.png');

  beforeAll(async () => {
    fixture = await buildReportFixture();
    ({ report } = await gatherReport({
      doc: fixture.doc,
      tables: fixture.tables,
      now: new Date(),
      periodDays: 30,
      revocation: REVOCATION,
      source: 'test fixture',
      people: sailPointOwnerDirectory(fixture.client),
    }));
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await writeReportFiles(report, { htmlPath });

    const browser = await launchChromium();
    close = browser.close;
    page = await browser.context.newPage();
    // Self-contained: anything but the file itself is refused, and recorded.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`file://${htmlPath}`);
    await page.screenshot({ path: screenshotPath, fullPage: true });
  });
  afterAll(async () => {
    await close?.();
    await fixture?.stop();
  });

  it('loads with nothing fetched and no error, and a screenshot is saved', async () => {
    expect(await page.title()).toMatch(/^IGA Autopilot report — \d{4}-\d{2}-\d{2}$/);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.locator('script, link[rel=stylesheet], img').count()).toBe(0);
  });

  it('shows one visible table row per open token finding, flagged ones with their revoke date', async () => {
    const rows = page.getByTestId('token-row');
    const open = [...TOKENS.stale, ...TOKENS.neverUsed, ...TOKENS.warned, ...TOKENS.exempt];
    expect(await rows.count()).toBe(open.length);
    for (const tokenId of open) {
      const row = page.locator(`[data-testid=token-row][data-token-id="${tokenId}"]`);
      expect(await row.isVisible()).toBe(true);
      expect(await row.innerText()).toContain(`Token ${tokenId}`);
    }
    for (const tokenId of [...TOKENS.stale, ...TOKENS.neverUsed]) {
      const expected = report.tokensByOwner
        .flatMap((g) => g.tokens)
        .find((t) => t.tokenId === tokenId)!.revokeFrom!;
      const text = await page.locator(`[data-testid=token-row][data-token-id="${tokenId}"]`).innerText();
      expect(text).toContain('flagged');
      expect(text).toContain(expected.slice(0, 10));
    }
    // Owners head their tokens, by name and e-mail.
    const owners = await page.getByTestId('owner-row').allInnerTexts();
    expect(owners).toEqual(report.tokensByOwner.map((g) => expect.stringContaining(g.owner.label)));
    expect(owners.join('\n')).toContain('dev.patel@example.com');
  });

  it('shows the counts a security lead acts on', async () => {
    const count = async (id: string) =>
      Number((await page.getByTestId(`count-${id}`).locator('.card-value').innerText()).trim());
    expect(await count('tokens-flagged')).toBe(3);
    expect(await count('tokens-never-used')).toBe(1);
    expect(await count('tokens-warned')).toBe(1);
    expect(await count('tokens-revoked')).toBe(1);
    expect(await count('tokens-resolved')).toBe(1);
    expect(await count('access-submitted')).toBe(1);
    expect(await count('access-duplicates')).toBe(1);
    expect(await count('access-dead-lettered')).toBe(2);
    expect(await count('absences-current')).toBe(1);
    for (const id of ['tokens-flagged', 'access-dead-lettered', 'cognigy-open']) {
      expect(await page.getByTestId(`count-${id}`).isVisible()).toBe(true);
    }
  });

  it('lists revoked and resolved tokens, dead letters with reasons, and absences with delegates', async () => {
    const closed = await page.getByTestId('closed-token-row').allInnerTexts();
    expect(closed).toHaveLength(2);
    expect(closed.join('\n')).toMatch(/revoked after the grace period/);
    const deadLetters = await page.getByTestId('dead-letter-row').allInnerTexts();
    expect(deadLetters).toHaveLength(2);
    expect(deadLetters.join('\n')).toContain('RPT-3');
    expect(deadLetters.join('\n')).toMatch(/comment: required for REVOKE_ACCESS/);
    const current = await page.getByTestId('absences-current').innerText();
    expect(current).toContain('Carla Mendes');
    expect(current).toContain('Amelia Hart');
    expect(await page.getByTestId('absences-upcoming').innerText()).toContain('Grace Kim');
    // The charts are there, as inline SVG with their titles.
    expect(await page.locator('svg.chart').count()).toBe(3);
  });
});
