/**
 * A real headless Chromium (Debian's package, /usr/bin/chromium) driven by playwright-core: for tests
 * that look at a page as a person would, and for `npm run report -- --screenshot`. `.ci/run` installs
 * the package when it is missing; on a developer machine without it, the browser tests are skipped
 * with a note (in CI they fail instead).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where browser tests leave screenshots (gitignored; CI keeps the folder as an artifact). */
export const ARTIFACTS_DIR = path.join(__dirname, '..', 'artifacts', 'test');

export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI)
    throw new Error(`${CHROMIUM_PATH} is missing: .ci/run installs it (apt-get install chromium)`);
  console.warn(`browser tests skipped: ${CHROMIUM_PATH} not found (apt-get install -y chromium)`);
  return false;
}

/** A fresh browser profile each time: nothing cached or remembered from another run. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'iga-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens a local HTML file and saves a PNG of its top `height` pixels (the whole page when omitted). */
export async function screenshotFile(htmlPath: string, pngPath: string, height?: number): Promise<void> {
  const { context, close } = await launchChromium();
  try {
    const page = await context.newPage();
    await page.goto(`file://${path.resolve(htmlPath)}`);
    await page.screenshot({
      path: pngPath,
      fullPage: true,
      ...(height ? { clip: { x: 0, y: 0, width: 1200, height } } : {}),
    });
  } finally {
    await close();
  }
}
