// The proxy's own client page (guacamole-common-js) in headless Chromium, reaching an RDP desktop through
// `gatehouse proxy` and its RDP engine: for test/e2e/rdp-browser*.test.ts. The page's read-only hook
// (window.gatehouse = { state(), status(), client }) gives the Guacamole.Client; the helpers here open the
// page with a signed token, read the default layer's pixels, map remote coordinates to page coordinates,
// and wait for the canvas to match an X display.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { resolveRunAs, whyNotRunnable } from '../../../src/engine/rdp/engine-process.js';
import type { Policy, Target } from '../../../src/proxy/types.js';
import { launchBrowser, type TestBrowser } from './browser.js';
import { type GatehouseHook, pagePoint } from './client-page-hook.js';
import { type ProxyProcess, startGatehouseProxy } from './gatehouse-proxy.js';
import { diffRgba, type RegionDiff } from './pixels.js';
import { leftoverProcesses, pollUntil } from './processes.js';
import { engineBinary } from './rdp-engine-process.js';
import { type RdpTarget, rdpParams } from './rdp-servers.js';
import type { XDisplay } from './x-display.js';

export interface PageState {
  /** 'idle' | 'connecting' | 'connected' | 'disconnected' | 'error' */
  state: string;
  status: { code: number | null; message: string | null } | null;
  /** The remote display's size as the client knows it (0x0 before the first `size`). */
  width: number;
  height: number;
}

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * `gatehouse proxy` with one connection manager running the RDP engine (engineBinary(), so
 * GATEHOUSE_RDP_ENGINE selects another build). As root the proxy starts each engine as nobody; when nobody
 * cannot reach the executable (a build under /root, say) the engines run as we do, and `note` says so.
 */
export async function startRdpProxy(): Promise<{ proxy: ProxyProcess; note: string | undefined }> {
  const isRoot = process.getuid?.() === 0;
  const note = isRoot ? whyNotRunnable(engineBinary(), resolveRunAs('nobody')) : undefined;
  const proxy = await startGatehouseProxy({
    managers: 1,
    env: {
      GATEHOUSE_ENGINE__RDP__BINARY: engineBinary(),
      GATEHOUSE_LOG__LEVEL: 'info',
      ...(note ? { GATEHOUSE_ENGINE__RDP__USER: '' } : {}),
    },
  });
  return { proxy, note };
}

/**
 * A suite's proxy (startRdpProxy) and headless Chromium. When the engines run without a privilege drop,
 * says so on stderr, prefixed with `label`.
 */
export async function startRdpBrowserRig(
  label: string,
): Promise<{ proxy: ProxyProcess; browser: TestBrowser }> {
  const started = await startRdpProxy();
  if (started.note) process.stderr.write(`${label}: ${started.note}; engines run without a privilege drop\n`);
  return { proxy: started.proxy, browser: await launchBrowser() };
}

/**
 * Ends a suite: waits until the proxy runs no engine process, closes the browser and the proxy, stops
 * `servers` in order, and asserts that no process is left (then fails if an engine outlived its page).
 * Any of them may be undefined (its start failed).
 */
export async function stopRdpBrowserRig(
  proxy: ProxyProcess | undefined,
  browser: TestBrowser | undefined,
  ...servers: Array<{ stop(): Promise<void> } | undefined>
): Promise<void> {
  const engines = proxy ? await waitNoEngines(proxy).catch((err: Error) => err) : undefined;
  await browser?.close();
  await proxy?.stop();
  for (const s of servers) await s?.stop();
  assert.deepEqual(leftoverProcesses(), []);
  if (engines instanceof Error) throw engines;
}

/** Live engine processes (children of `parent` running the engine executable). */
export function engineProcesses(parent: number): number[] {
  const binary = engineBinary();
  const live: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== parent || fields[0] === 'Z') continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').startsWith(binary)) live.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return live;
}

/** Waits until the proxy runs no engine process (every page closed: each session's process must end). */
export async function waitNoEngines(proxy: ProxyProcess, timeoutMs = 10_000): Promise<void> {
  await pollUntil(
    'no engine process left under the proxy',
    () => (engineProcesses(proxy.process.pid).length === 0 ? true : undefined),
    timeoutMs,
    100,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${engineProcesses(proxy.process.pid).join(' ')}`);
  });
}

/**
 * The parameter names the engine executable asks for (its `args` answer to `select,rdp`), or [] when it
 * cannot be run. Channel modules add theirs (the clipboard module: normalize-clipboard).
 */
export function engineParamNames(binary = engineBinary()): string[] {
  if (!existsSync(binary)) return [];
  const r = spawnSync(binary, ['--log-level', 'error'], { input: '6.select,3.rdp;', timeout: 5000 });
  const m = /^4\.args,([^;]*);/.exec(r.stdout?.toString('utf8') ?? '');
  // Element values here are plain ASCII names: "LENGTH.value" separated by commas.
  return m ? m[1]!.split(',').map((e) => e.slice(e.indexOf('.') + 1)) : [];
}

export interface OpenOptions {
  /** The page's viewport, default 1024x768 (the client asks for that desktop size, device pixel ratio 1). */
  viewport?: { width: number; height: number };
  policy?: Partial<Policy>;
  /** Wait for 'connected' (default), or for any end of connecting ('connected', 'error', 'disconnected'). */
  until?: 'connected' | 'settled';
  timeoutMs?: number;
}

export interface OpenedPage {
  page: Page;
  /** Console messages and page errors. */
  console: string[];
  close(): Promise<void>;
}

/** Opens the proxy's client page with a token for `target`; waits until it connected (or settled). */
export async function openRdpPage(
  browser: TestBrowser,
  proxy: ProxyProcess,
  target: Target,
  opts: OpenOptions = {},
): Promise<OpenedPage> {
  const token = await proxy.token(target, opts.policy);
  const page = await browser.newPage();
  const console: string[] = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  const opened: OpenedPage = { page, console, close: () => page.context().close() };
  try {
    await page.setViewportSize(opts.viewport ?? { width: 1024, height: 768 });
    await page.goto(`${proxy.url}/#token=${encodeURIComponent(token)}`);
    const wanted = opts.until === 'settled' ? ['connected', 'error', 'disconnected'] : ['connected'];
    await waitForState(page, `page state ${wanted.join(' or ')}`, (s) => wanted.includes(s.state), {
      timeoutMs: opts.timeoutMs ?? 20_000,
      failOnError: opts.until !== 'settled',
    });
  } catch (err) {
    await opened.close();
    throw new Error(`${(err as Error).message}\npage console:\n${console.join('\n')}`);
  }
  return opened;
}

export function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => {
    const g = (globalThis as unknown as Partial<GatehouseHook>).gatehouse;
    const display = g?.client?.getDisplay();
    return {
      state: g?.state() ?? 'no hook',
      status: g?.status() ?? null,
      width: display?.getWidth() ?? 0,
      height: display?.getHeight() ?? 0,
    };
  });
}

/** Polls the page's state until `ok`; fails early when the session ended with an error (failOnError). */
export async function waitForState(
  page: Page,
  what: string,
  ok: (s: PageState) => boolean,
  opts: { timeoutMs?: number; failOnError?: boolean } = {},
): Promise<PageState> {
  let last: PageState | undefined;
  try {
    return await pollUntil(
      what,
      async () => {
        last = await pageState(page);
        if (ok(last)) return last;
        if (opts.failOnError !== false && (last.state === 'error' || last.state === 'disconnected'))
          throw new Error(`the session ended: ${JSON.stringify(last)}`);
        return undefined;
      },
      opts.timeoutMs ?? 15_000,
      100,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last page state ${JSON.stringify(last)}`);
  }
}

/** RGBA of a region of the client's default layer (remote coordinates), after the display has flushed. */
export async function canvasPixels(page: Page, r: Region): Promise<Uint8Array> {
  const b64 = await page.evaluate(
    (r) =>
      new Promise<string>((resolve, reject) => {
        const client = (globalThis as unknown as GatehouseHook).gatehouse.client;
        if (!client) {
          reject(new Error('no client'));
          return;
        }
        const display = client.getDisplay();
        display.flush(() => {
          const d = display
            .getDefaultLayer()
            .getCanvas()
            .getContext('2d')
            .getImageData(r.x, r.y, r.width, r.height).data;
          let s = '';
          for (let i = 0; i < d.length; i += 0x8000) {
            s += String.fromCharCode(...(d.subarray(i, i + 0x8000) as unknown as number[]));
          }
          resolve(btoa(s));
        });
      }),
    r,
  );
  return Uint8Array.from(Buffer.from(b64, 'base64'));
}

/**
 * Waits until the canvas region equals the X display's (each channel within `tolerance`); returns the last
 * diff. The X side is read again on every try, so it may still be settling.
 */
export async function waitForCanvasMatch(
  page: Page,
  x: XDisplay,
  r: Region,
  tolerance = 0,
  timeoutMs = 15_000,
): Promise<RegionDiff> {
  let last: RegionDiff | undefined;
  return pollUntil(
    `the canvas ${r.width}x${r.height}+${r.x}+${r.y} to match ${x.name} (tolerance ${tolerance})`,
    async () => {
      const remote = await x.screenshotRegion(r.x, r.y, r.width, r.height);
      last = diffRgba(remote, await canvasPixels(page, r), tolerance);
      return last.mismatched === 0 ? last : undefined;
    },
    timeoutMs,
    200,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last diff ${JSON.stringify(last)}`);
  });
}

/**
 * Moves the browser's mouse to a remote point and waits until the remote X pointer is there (no window
 * manager in the test sessions: the keyboard focus follows it). The move is made again every second: a move
 * sent right after the page connected can reach a server still finishing its activation, and one lost move
 * would otherwise leave the pointer elsewhere for good.
 */
export async function pointerTo(
  page: Page,
  x: XDisplay,
  rx: number,
  ry: number,
  timeoutMs = 10_000,
): Promise<void> {
  let last = 0;
  let toggle = 0;
  await pollUntil(
    `the X pointer at ${rx},${ry}`,
    async () => {
      if (Date.now() - last >= 1000) {
        last = Date.now();
        const p = await pagePoint(page, rx, ry);
        // A move to where the browser's mouse already is sends nothing: step off the point first.
        await page.mouse.move(p.x + (toggle++ % 2 === 0 ? 0 : 1), p.y);
        await page.mouse.move(p.x, p.y);
      }
      return (await x.xdotool('getmouselocation')).startsWith(`x:${rx} y:${ry} `) ? true : undefined;
    },
    timeoutMs,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}; pointer ${await x.xdotool('getmouselocation').catch(() => '?')}`);
  });
}

/** The geometry of an X window (xdotool getwindowgeometry). */
export async function windowGeometry(x: XDisplay, windowId: string): Promise<Region> {
  const geo = await x.xdotool('getwindowgeometry', '--shell', windowId);
  const num = (k: string): number => Number(new RegExp(`^${k}=(\\d+)`, 'm').exec(geo)?.[1]);
  return { x: num('X'), y: num('Y'), width: num('WIDTH'), height: num('HEIGHT') };
}

/** The RDP target of a server started by rdp-servers.ts, plus `extra` parameters. */
export function rdpTarget(server: RdpTarget, extra: Record<string, string> = {}): Target {
  return { protocol: 'rdp', params: rdpParams(server, extra) };
}
