// The browser client page (src/proxy/client, served from dist/public) in headless Chromium, under the
// proxy's CSP, against a scripted Guacamole tunnel: connect data, drawing, keyboard, mouse, clipboard both
// ways, resize, the status overlay and Reconnect. No console errors, no CSP violations.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { CLIENT_ASSETS, CLIENT_CSP, clientAssetsDir } from '../../src/proxy/client-assets.js';
import { fromRoot } from '../helpers/paths.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { LOOPBACK } from './helpers/free-port.js';
import { type MiniWsServer, startMiniWsServer, type WsConnection } from './helpers/mini-ws-server.js';
import { leftoverProcesses, pollUntil } from './helpers/processes.js';

const FRESH_TOKEN = 'fresh-token-1';

/** One tunnel connection, played by the test: the server side of a Guacamole session. */
class FakeSession {
  readonly received: Instruction[] = [];
  readonly connectData: URLSearchParams;
  readonly path: string;
  private readonly parser = new GuacamoleParser();

  constructor(readonly conn: WsConnection) {
    const [path, query] = conn.url.split('?');
    this.path = path ?? '';
    this.connectData = new URLSearchParams(query ?? '');
    conn.onMessage = (text) => {
      for (const ins of this.parser.feed(Buffer.from(text))) {
        if (ins.opcode === '' && ins.args[0] === 'ping') conn.send(text);
        else if (ins.opcode !== '' && ins.opcode !== 'nop') this.received.push(ins);
      }
    };
    conn.send(encodeInstruction('', randomUUID()));
  }

  get token(): string | null {
    return this.connectData.get('token');
  }

  /** A 640x480 black screen with a red 200x100 rectangle at (10,10), then sync 1. */
  sendFirstFrame(): void {
    this.conn.send(
      encodeInstruction('size', 0, 640, 480) +
        encodeInstruction('rect', 0, 0, 0, 640, 480) +
        encodeInstruction('cfill', 14, 0, 0, 0, 0, 255) +
        encodeInstruction('rect', 0, 10, 10, 200, 100) +
        encodeInstruction('cfill', 14, 0, 255, 0, 0, 255) +
        encodeInstruction('sync', 1),
    );
  }

  has(opcode: string, ...args: string[]): boolean {
    return this.received.some((i) => i.opcode === opcode && args.every((a, n) => i.args[n] === a));
  }

  async waitFor(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
    try {
      await pollUntil(what, () => (ok() ? true : undefined), timeoutMs, 25);
    } catch (err) {
      const seen = this.received.map((i) => [i.opcode, ...i.args].join(',')).slice(-30);
      throw new Error(`${(err as Error).message}; received: ${JSON.stringify(seen)}`);
    }
  }

  /** Texts of the clipboard streams the browser sent (complete ones only), in order. */
  clipboards(): string[] {
    const streams = new Map<string, { mimetype: string; data: Buffer[] }>();
    const done: string[] = [];
    for (const { opcode, args } of this.received) {
      const id = args[0] ?? '';
      if (opcode === 'clipboard') streams.set(id, { mimetype: args[1] ?? '', data: [] });
      else if (opcode === 'blob') streams.get(id)?.data.push(Buffer.from(args[1] ?? '', 'base64'));
      else if (opcode === 'end') {
        const s = streams.get(id);
        if (s) done.push(`${s.mimetype}:${Buffer.concat(s.data).toString('utf8')}`);
        streams.delete(id);
      }
    }
    return done;
  }
}

interface PageProbe {
  page: Page;
  /** Console errors, page errors, failed requests and CSP violations. */
  problems(): Promise<string[]>;
}

const cspProbeScript = (): void => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
};

describe('browser client page', { timeout: 120_000 }, () => {
  const skip = skipUnlessInstalled(['chromium']);
  let browser: TestBrowser | undefined;
  let http: Server | undefined;
  let httpUrl = '';
  let ws: MiniWsServer | undefined;
  const sessions: FakeSession[] = [];
  const requests: string[] = [];
  const timings: Record<string, number> = {};

  before(async () => {
    if (skip) return;
    const t0 = performance.now();
    // The build step the lead's scripts/build.mjs runs: src/proxy/client + guacamole-common-js → dist/public.
    const script = pathToFileURL(fromRoot('scripts', 'copy-client-assets.mjs')).href;
    const { copyClientAssets } = (await import(script)) as { copyClientAssets: () => string[] };
    const copied = copyClientAssets();
    assert.equal(copied.filter((f) => !f.includes(`${sep}webapp${sep}`)).length, 4);
    timings['copy assets'] = Math.round(performance.now() - t0);

    const files = new Map<string, Buffer>();
    for (const [path, asset] of Object.entries(CLIENT_ASSETS)) {
      files.set(path, await readFile(join(clientAssetsDir(), asset.file)));
    }
    http = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      requests.push(path);
      const asset = CLIENT_ASSETS[path];
      const headers = { 'content-security-policy': CLIENT_CSP, 'cache-control': 'no-store' };
      if (asset) {
        res.writeHead(200, { ...headers, 'content-type': asset.contentType });
        res.end(files.get(path));
      } else if (path === '/fresh-token') {
        res.writeHead(200, { ...headers, 'content-type': 'text/plain' });
        res.end(`${FRESH_TOKEN}\n`);
      } else {
        res.writeHead(404, { ...headers, 'content-type': 'text/plain' });
        res.end('not found');
      }
    });
    await new Promise<void>((resolve) => http!.listen(0, LOOPBACK, resolve));
    const address = http.address();
    httpUrl = `http://${LOOPBACK}:${typeof address === 'object' && address ? address.port : 0}`;
    ws = await startMiniWsServer((conn) => {
      const s = new FakeSession(conn);
      sessions.push(s);
      s.sendFirstFrame();
    });
    browser = await launchBrowser();
    timings['chromium launch'] = Math.round(browser.launchMs);
  });

  after(async () => {
    await browser?.close();
    await ws?.close();
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http!.close(() => resolve()));
    }
    process.stderr.write(`client page timings (ms): ${JSON.stringify(timings)}\n`);
    const left = leftoverProcesses();
    assert.deepEqual(left, [], `processes left running:\n${left.join('\n')}`);
  });

  const tunnelParam = (): string => `tunnel=${encodeURIComponent(`${ws!.url}tunnel`)}`;

  async function openPage(path: string, options: BrowserContextOptions = {}): Promise<PageProbe> {
    const context = await browser!.browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    await page.addInitScript(cspProbeScript);
    const t0 = performance.now();
    await page.goto(`${httpUrl}${path}`, { timeout: 10_000 });
    timings['page load'] ??= Math.round(performance.now() - t0);
    return {
      page,
      async problems() {
        const csp = await page.evaluate(() => window.__csp);
        return [...problems, ...csp.map((v) => `CSP violation: ${v}`)];
      },
    };
  }

  const state = (page: Page): Promise<string> => page.evaluate(() => window.gatehouse.state());

  async function waitForState(page: Page, want: string, timeoutMs = 5000): Promise<void> {
    let last = '';
    await pollUntil(
      `page state ${want}`,
      async () => {
        last = await state(page);
        return last === want ? true : undefined;
      },
      timeoutMs,
      25,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (last: ${last})`);
    });
  }

  async function sessionFor(token: string, from = 0): Promise<FakeSession> {
    return pollUntil(
      `a tunnel connection with token ${token}`,
      () => sessions.slice(from).find((s) => s.token === token),
      5000,
      25,
    );
  }

  const overlay = (page: Page) =>
    page.evaluate(() => ({
      visible: !document.getElementById('overlay').classList.contains('hidden'),
      text: document.getElementById('status-text').textContent,
      detail: document.getElementById('status-detail').textContent,
      reconnect: !document.getElementById('reconnect').hidden,
    }));

  describe('a session', { skip, timeout: 40_000 }, () => {
    let probe: PageProbe;
    let page: Page;
    let session: FakeSession;

    before(async () => {
      probe = await openPage(`/?${tunnelParam()}#token=tok-main`, { timezoneId: 'Europe/Berlin' });
      page = probe.page;
      session = await sessionFor('tok-main');
      await waitForState(page, 'connected');
    });

    after(() => page?.context().close());

    it('sends the fragment token and the display parameters, nothing else; drops the token from the URL', async () => {
      assert.equal(session.path, '/tunnel');
      assert.deepEqual(
        [...session.connectData],
        [
          ['token', 'tok-main'],
          ['width', '1280'],
          ['height', '800'],
          ['dpi', '96'],
          ['image', 'image/png'],
          ['image', 'image/jpeg'],
          ['image', 'image/webp'],
          ['timezone', 'Europe/Berlin'],
        ],
      );
      assert.doesNotMatch(page.url(), /token/);
      assert.match(page.url(), /tunnel=/);
      assert.equal((await overlay(page)).visible, false);
    });

    it('draws the frame scaled to fit the window', async () => {
      await session.waitFor('sync reply', () => session.has('sync', '1'));
      const seen = await page.evaluate(
        () =>
          new Promise<{ px: number[][]; scale: number; box: number[] }>((resolve) => {
            const display = window.gatehouse.client.getDisplay();
            display.flush(() => {
              const ctx = display.flatten().getContext('2d');
              const at = (x: number, y: number) => [...ctx.getImageData(x, y, 1, 1).data];
              const r = display.getElement().getBoundingClientRect();
              resolve({
                px: [at(5, 5), at(50, 30), at(209, 109), at(210, 110), at(600, 400)],
                scale: display.getScale(),
                box: [r.left, r.top, r.width, r.height].map(Math.round),
              });
            });
          }),
      );
      const [black, red] = [
        [0, 0, 0, 255],
        [255, 0, 0, 255],
      ];
      assert.deepEqual(seen.px, [black, red, red, black, black]);
      assert.equal(seen.scale, 800 / 480);
      assert.deepEqual(seen.box, [107, 0, 1067, 800]);
    });

    it('sends a key pressed in the page as key events', async () => {
      await page.keyboard.press('a');
      await session.waitFor('key a', () => session.has('key', '97', '1') && session.has('key', '97', '0'));
    });

    it('sends a click on the display in remote coordinates', async () => {
      const box = await page.evaluate(() => {
        const display = window.gatehouse.client.getDisplay();
        const r = display.getElement().getBoundingClientRect();
        return { left: r.left, top: r.top, scale: display.getScale() };
      });
      await page.mouse.click(box.left + 100.5 * box.scale, box.top + 50.5 * box.scale);
      await session.waitFor('mouse press and release', () => {
        const i = session.received.findIndex((x) => x.opcode === 'mouse' && x.args.join() === '100,50,1');
        return (
          i >= 0 &&
          session.received.slice(i).some((x) => x.opcode === 'mouse' && x.args.join() === '100,50,0')
        );
      });
    });

    it('shows remote clipboard text in the panel', async () => {
      const text = 'remote says héllo ✓';
      session.conn.send(
        encodeInstruction('clipboard', 7, 'text/plain') +
          encodeInstruction('blob', 7, Buffer.from(text).toString('base64')) +
          encodeInstruction('end', 7),
      );
      await pollUntil(
        'clipboard text in the panel',
        async () => ((await page.inputValue('#clipboard-text')) === text ? true : undefined),
        5000,
        25,
      );
    });

    it('sends text typed in the panel as one clipboard stream, and keeps those keys local', async () => {
      const keysBefore = session.received.filter((i) => i.opcode === 'key').length;
      await page.click('#clipboard-toggle');
      assert.equal(await page.isVisible('#clipboard-panel'), true);
      await page.fill('#clipboard-text', '');
      await page.keyboard.type('local text');
      await session.waitFor('clipboard stream', () => session.clipboards().length > 0);
      assert.deepEqual(session.clipboards(), ['text/plain:local text']);
      assert.equal(session.received.filter((i) => i.opcode === 'key').length, keysBefore);
      // Leaving the panel (change event) does not send the same text again; a click hands keys back.
      await page.click('#clipboard-toggle');
      await page.mouse.click(640, 400);
      await page.keyboard.press('b');
      await session.waitFor('key b', () => session.has('key', '98', '1'));
      assert.deepEqual(session.clipboards(), ['text/plain:local text']);
    });

    it('sends size once after the window is resized, and rescales', async () => {
      const sizesBefore = session.received.filter((i) => i.opcode === 'size').length;
      assert.equal(sizesBefore, 0);
      await page.setViewportSize({ width: 1000, height: 700 });
      await session.waitFor('size', () => session.has('size', '1000', '700'));
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(session.received.filter((i) => i.opcode === 'size').length, 1);
      const scale = await page.evaluate(() => window.gatehouse.client.getDisplay().getScale());
      assert.equal(scale, Math.min(1000 / 640, 700 / 480));
    });

    it('shows 0x0301 with its text, without Reconnect, and logs no errors or CSP violations', async () => {
      session.conn.send(encodeInstruction('error', 'token already used', STATUS.CLIENT_UNAUTHORIZED));
      session.conn.close(1008, String(STATUS.CLIENT_UNAUTHORIZED));
      await waitForState(page, 'error');
      const o = await overlay(page);
      assert.deepEqual(o, {
        visible: true,
        text: 'Access denied: the link is invalid, expired or already used',
        detail: 'Error 0x0301: token already used',
        reconnect: false,
      });
      const status = await page.evaluate(() => window.gatehouse.status());
      assert.deepEqual(status, { code: 0x0301, message: 'token already used' });
      // Keys go nowhere once the session has ended.
      const keys = session.received.filter((i) => i.opcode === 'key').length;
      await page.keyboard.press('c');
      assert.equal(session.received.filter((i) => i.opcode === 'key').length, keys);
      assert.deepEqual(await probe.problems(), []);
      assert.deepEqual(
        requests.filter((p) => !(p in CLIENT_ASSETS)),
        [],
      );
    });
  });

  it('high DPI: device-pixel size and dpi; touch; a transient error offers Reconnect with the same token', {
    skip,
    timeout: 30_000,
  }, async () => {
    const from = sessions.length;
    const probe = await openPage(`/?${tunnelParam()}#token=tok-dpi`, {
      viewport: { width: 800, height: 600 },
      deviceScaleFactor: 2,
      hasTouch: true,
    });
    const { page } = probe;
    try {
      const first = await sessionFor('tok-dpi', from);
      assert.equal(first.connectData.get('width'), '1600');
      assert.equal(first.connectData.get('height'), '1200');
      assert.equal(first.connectData.get('dpi'), '192');
      await waitForState(page, 'connected');
      // 640x480 remote pixels into 800x600 CSS pixels, once the frame that set the size has been drawn
      // (the client reports 'connected' on the first sync, possibly before the display has flushed it).
      const scale = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const display = window.gatehouse.client.getDisplay();
            display.flush(() => resolve(display.getScale()));
          }),
      );
      assert.equal(scale, 1.25);
      // A tap (touchscreen mode) is a left click where the finger is.
      const box = await page.evaluate(() =>
        window.gatehouse.client.getDisplay().getElement().getBoundingClientRect(),
      );
      await page.touchscreen.tap(box.left + 320.5 * scale, box.top + 240.5 * scale);
      await first.waitFor('tap as a click', () => first.has('mouse', '320', '240', '1'));
      first.conn.send(encodeInstruction('error', 'no route', STATUS.UPSTREAM_UNAVAILABLE));
      await waitForState(page, 'error');
      const o = await overlay(page);
      assert.equal(o.text, 'The remote desktop cannot be reached');
      assert.equal(o.detail, 'Error 0x0208: no route');
      assert.equal(o.reconnect, true);
      await page.click('#reconnect');
      const second = await sessionFor('tok-dpi', sessions.indexOf(first) + 1);
      await waitForState(page, 'connected');
      assert.notEqual(second, first);
      assert.equal((await overlay(page)).visible, false);
      assert.deepEqual(await probe.problems(), []);
    } finally {
      await page.context().close();
    }
  });

  it('with clipboard permission: syncs the system clipboard both ways', {
    skip,
    timeout: 30_000,
  }, async () => {
    const from = sessions.length;
    const probe = await openPage(`/?${tunnelParam()}#token=tok-clip`, {
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const { page } = probe;
    try {
      const session = await sessionFor('tok-clip', from);
      await waitForState(page, 'connected');
      // Local → remote: the page reads the system clipboard when the window gains focus.
      await page.evaluate(async () => {
        await navigator.clipboard.writeText('from the system clipboard');
        window.dispatchEvent(new Event('focus'));
      });
      await session.waitFor('clipboard stream', () =>
        session.clipboards().includes('text/plain:from the system clipboard'),
      );
      assert.equal(await page.inputValue('#clipboard-text'), 'from the system clipboard');
      // Remote → local: written to the system clipboard, and not echoed back on the next focus.
      session.conn.send(
        encodeInstruction('clipboard', 3, 'text/plain') +
          encodeInstruction('blob', 3, Buffer.from('from the remote side').toString('base64')) +
          encodeInstruction('end', 3),
      );
      await pollUntil(
        'remote text in the system clipboard',
        async () =>
          (await page.evaluate(() => navigator.clipboard.readText())) === 'from the remote side'
            ? true
            : undefined,
        5000,
        25,
      );
      const sent = session.clipboards().length;
      await page.evaluate(() => window.dispatchEvent(new Event('focus')));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(session.clipboards().length, sent);
      assert.deepEqual(await probe.problems(), []);
    } finally {
      await page.context().close();
    }
  });

  it('?reconnect= fetches a fresh token after the tunnel closes with 0x0301', {
    skip,
    timeout: 30_000,
  }, async () => {
    const from = sessions.length;
    const probe = await openPage(`/?${tunnelParam()}&reconnect=/fresh-token#token=tok-old`);
    const { page } = probe;
    try {
      const first = await sessionFor('tok-old', from);
      await waitForState(page, 'connected');
      // The proxy's way to refuse a token: close reason = the decimal status, no error instruction.
      first.conn.close(1008, String(STATUS.CLIENT_UNAUTHORIZED));
      await waitForState(page, 'error');
      const o = await overlay(page);
      assert.equal(o.text, 'Access denied: the link is invalid, expired or already used');
      assert.equal(o.reconnect, true);
      await page.click('#reconnect');
      await sessionFor(FRESH_TOKEN, from);
      await waitForState(page, 'connected');
      assert.ok(requests.includes('/fresh-token'));
      assert.deepEqual(await probe.problems(), []);
    } finally {
      await page.context().close();
    }
  });

  it('a link without a token, or with a foreign tunnel, opens no tunnel; the CSP is in force', {
    skip,
    timeout: 30_000,
  }, async () => {
    const from = sessions.length;
    for (const path of ['/', `/?tunnel=${encodeURIComponent('ws://localhost:1/tunnel')}#token=tok-x`]) {
      const probe = await openPage(path);
      const { page } = probe;
      try {
        await waitForState(page, 'error');
        const o = await overlay(page);
        assert.equal(o.text, 'This link is invalid');
        assert.equal(o.reconnect, false);
        assert.deepEqual(await probe.problems(), []);
        // Positive control: an inline style attribute is refused and reported.
        await page.evaluate(() => document.body.setAttribute('style', 'color: red'));
        await pollUntil(
          'a CSP violation report',
          async () => ((await probe.problems()).some((p) => p.includes('style-src')) ? true : undefined),
          3000,
          25,
        );
      } finally {
        await page.context().close();
      }
    }
    assert.equal(sessions.length, from);
  });
});

// The page-side functions above run in the browser; tsc here compiles for Node (no DOM types), so the few
// browser objects they touch are declared to the extent used.
interface PageElement {
  hidden: boolean;
  textContent: string | null;
  classList: { contains(name: string): boolean };
  setAttribute(name: string, value: string): void;
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
}
interface PageCanvas {
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
/** The parts of Guacamole.Client / Guacamole.Display the page evaluations use. */
interface GuacClient {
  getDisplay(): {
    flush(cb: () => void): void;
    flatten(): PageCanvas;
    getScale(): number;
    getElement(): PageElement;
  };
}
declare const window: {
  gatehouse: { state(): string; status(): unknown; client: GuacClient };
  __csp: string[];
  dispatchEvent(event: unknown): void;
};
declare const Event: new (type: string) => unknown;
declare const navigator: {
  clipboard: { readText(): Promise<string>; writeText(text: string): Promise<void> };
};
declare const document: {
  body: PageElement;
  getElementById(id: string): PageElement;
  addEventListener(
    type: 'securitypolicyviolation',
    listener: (e: { violatedDirective: string; blockedURI: string }) => void,
  ): void;
};
