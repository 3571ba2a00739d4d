// For browser tests of the web UI against the real webapp: the webapp in this process (test/webapp/api-helpers
// startTestWebapp, HTTPS with its self-signed certificate, SQLite in a temp directory) serving the current UI
// sources, and Chromium pages that record console errors, page errors and CSP violations, with the checks
// every test ends with (no problems, no stray 'null'/'undefined' text on the page).
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { fromRoot } from '../../helpers/paths.js';
import { startTestWebapp, type TestWebapp } from '../../webapp/api-helpers.js';
import type { TestBrowser } from './browser.js';
import { registerTempDir, removeTempDir } from './processes.js';

export { ADMIN_PASSWORD } from '../../webapp/api-helpers.js';

// Page-side functions run in the browser; tsc compiles for Node (no DOM types): the browser objects they
// touch are declared to the extent used.
declare const window: { __csp: string[] };
declare const document: {
  addEventListener(
    type: 'securitypolicyviolation',
    listener: (e: { violatedDirective: string; blockedURI: string }) => void,
  ): void;
};

export interface UiWebapp extends TestWebapp {
  /** Stops the webapp and removes its data directory. */
  stop(): Promise<void>;
}

/** The webapp in this process on a fresh SQLite database; `set`: more `webapp.*` settings. */
export async function startUiWebapp(set: Record<string, string> = {}): Promise<UiWebapp> {
  // What the build does (the UI into dist/public/webapp, the proxy's client into dist/public): the webapp
  // serves what is there when it starts. Atomic and idempotent, so tests running at once do not collide.
  const script = pathToFileURL(fromRoot('scripts', 'copy-client-assets.mjs')).href;
  ((await import(script)) as { copyClientAssets: () => string[] }).copyClientAssets();
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-ui-'));
  registerTempDir(dir);
  let web: TestWebapp;
  try {
    web = await startTestWebapp('', dir, set);
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
  return {
    ...web,
    async stop() {
      await web.close();
      await removeTempDir(dir);
    },
  };
}

/** Problems seen on every page of the contexts made by `uiContext` with this list. */
export type Problems = string[];

/** A browser context that accepts the self-signed certificate and records problems into `problems`. */
export async function uiContext(browser: TestBrowser, problems: Problems): Promise<BrowserContext> {
  const context = await browser.browser.newContext({
    viewport: { width: 1280, height: 800 },
    ignoreHTTPSErrors: true,
  });
  context.setDefaultTimeout(8000);
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  context.on('page', (page) => {
    // Failed HTTP answers (401, 409, 503 ...) are what several flows are about: Chromium logs each one.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
        problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => d.accept());
  });
  return context;
}

/** No stray null/undefined/NaN text, no console or page errors, no CSP violations. */
export async function assertClean(page: Page, problems: Problems): Promise<void> {
  assert.doesNotMatch(
    (await page.locator('body').textContent()) ?? '',
    /\bnull\b|\bundefined\b|\[object |NaN/,
  );
  const csp = await page.evaluate(() => window.__csp ?? []);
  assert.deepEqual([...problems, ...csp], []);
}

/** Signs in with the keyboard only: the user name has focus, Tab to the password, Enter submits. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByTestId('login-username').waitFor();
  await page.keyboard.type(username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
}

export const heading = (page: Page, name: string): Locator =>
  page.getByRole('heading', { level: 1, name, exact: true });

/** A table row by its data-testid and data-name. */
export const row = (page: Page, testid: string, name: string): Locator =>
  page.locator(`[data-testid="${testid}"][data-name="${name}"]`);
