// Headless Chromium (Debian's, /usr/bin/chromium) driven by playwright-core. Playwright starts it with a new
// empty profile directory of its own and removes it on close; XDG_CONFIG_HOME/XDG_CACHE_HOME point into a
// temp directory of ours too, so nothing (crash reports included) lands in the user's home. The browser
// runs as a Playwright browser server, so close() can fall back to killing it: it always resolves, and no
// chromium process is left running (its crashpad handlers, in process groups of their own, are waited for).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserServer, chromium, type Page } from 'playwright-core';
import { CHROMIUM_PATH } from './binaries.js';
import { liveProcesses } from './proc-scan.js';
import {
  forgetIfGone,
  pollUntil,
  registerGroup,
  registerMarker,
  registerTempDir,
  removeTempDir,
  within,
} from './processes.js';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // Canvas pixels read back as drawn: no colour management between the drawn and the read value.
  '--force-color-profile=srgb',
];

export interface BrowserOptions {
  /** Default CHROMIUM_PATH (/usr/bin/chromium, or $GATEHOUSE_CHROMIUM). */
  executablePath?: string;
  /** Appended to CHROMIUM_ARGS. */
  extraArgs?: string[];
  /** Launch timeout, default 30 s. */
  timeoutMs?: number;
}

export interface TestBrowser {
  browser: Browser;
  /** How long launching took (process start to a connected Browser), in ms. */
  launchMs: number;
  /** A page in a new context (viewport 1280x800). */
  newPage(): Promise<Page>;
  /** Closes the browser; kills it if it does not close within 5 s. Idempotent. */
  close(): Promise<void>;
}

/** Waits (bounded) for the processes whose command line holds `marker` to end; SIGKILLs any that do not. */
async function reapMarked(marker: string): Promise<void> {
  const marked = (): number[] =>
    (liveProcesses() ?? []).filter((p) => p.cmdline.includes(marker)).map((p) => p.pid);
  await pollUntil('chromium helpers to exit', () => (marked().length === 0 ? true : undefined), 3000).catch(
    () => {
      for (const pid of marked()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    },
  );
}

export async function launchBrowser(opts: BrowserOptions = {}): Promise<TestBrowser> {
  const started = performance.now();
  const timeout = opts.timeoutMs ?? 30_000;
  const home = await mkdtemp(join(tmpdir(), 'gatehouse-chromium-'));
  registerMarker(home);
  registerTempDir(home);
  let server: BrowserServer;
  try {
    server = await chromium.launchServer({
      executablePath: opts.executablePath ?? CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(opts.extraArgs ?? [])],
      env: { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache') },
      timeout,
      handleSIGINT: true,
      handleSIGTERM: true,
    });
  } catch (err) {
    await removeTempDir(home);
    throw err;
  }
  // Playwright starts chromium as the leader of its own process group; remember it for leftoverProcesses().
  registerGroup(server.process().pid ?? -1);
  const shutdown = async (): Promise<void> => {
    const closed = await within(
      5000,
      server.close().then(
        () => 'closed' as const,
        () => 'failed' as const,
      ),
    );
    if (closed !== 'closed') await server.kill();
    await reapMarked(home);
    forgetIfGone(server.process().pid ?? -1);
    await removeTempDir(home);
  };
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint(), { timeout });
  } catch (err) {
    await shutdown();
    throw err;
  }
  const launchMs = performance.now() - started;
  let closing: Promise<void> | undefined;
  return {
    browser,
    launchMs,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      return context.newPage();
    },
    close() {
      closing ??= (async () => {
        await within(
          5000,
          browser.close().catch(() => {}),
        );
        await shutdown();
      })();
      return closing;
    },
  };
}
