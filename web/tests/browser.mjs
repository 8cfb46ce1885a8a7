// Headless Chromium (Debian's, driven by playwright-core; never a downloaded browser) and the
// page served from a subfolder (/demo/), as a tutorial site would: shared by the page tests.
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { createServer } from 'http-server';
import { chromium } from 'playwright-core';
import { ROOT } from './helpers.mjs';

export const ARTIFACTS = path.join(ROOT, 'build/web-test');
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Serves web/ at /demo/ on a free port and launches Chromium: {browser, server, baseUrl, close()}.
export async function startSite() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const root = fs.mkdtempSync(path.join(ARTIFACTS, 'site-'));
  fs.symlinkSync(path.join(ROOT, 'web'), path.join(root, 'demo'));
  const server = createServer({ root, cache: -1, showDir: false, silent: true });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${server.server.address().port}/demo/`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  return {
    browser, server, baseUrl,
    async close() {
      await browser.close();
      server.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

// Registers before/after hooks; the returned site's openPage(t, options) gives {page, problems}.
export function useSite() {
  const site = {};
  before(async () => { Object.assign(site, await startSite()); });
  after(async () => { await site.close?.(); });
  site.openPage = async (t, options = {}) => {
    const context = await site.browser.newContext({ viewport: options.viewport ?? { width: 1000, height: 1100 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', async (dialog) => { problems.push(`dialog: ${dialog.message()}`); await dialog.dismiss(); });
    if (options.route) await context.route(options.route.pattern, options.route.handler);
    if (options.init) await context.addInitScript(options.init);
    options.onContext?.(context);
    await page.goto(site.baseUrl);
    t.after(() => context.close());
    return { page, problems };
  };
  return site;
}
