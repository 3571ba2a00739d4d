// The stock Guacamole JavaScript client (guacamole-common-js 1.5.0, npm) in a browser page, for the
// end-to-end tests. startGuacPageServer() serves the page and the library's ESM build from 127.0.0.1;
// GuacClientPage drives the page's window.gh API (./guac-page-script.ts) through page.evaluate.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { fromRoot } from '../../helpers/paths.js';
import { LOOPBACK } from './free-port.js';
import { GUAC_PAGE_SCRIPT } from './guac-page-script.js';
import { pollUntil } from './processes.js';

export const GUAC_COMMON_JS = fromRoot('node_modules/guacamole-common-js/dist/esm/guacamole-common.js');

/** Guacamole.Client.State */
export const CLIENT_STATE = {
  IDLE: 0,
  CONNECTING: 1,
  WAITING: 2,
  CONNECTED: 3,
  DISCONNECTING: 4,
  DISCONNECTED: 5,
};
/** Guacamole.Tunnel.State */
export const TUNNEL_STATE = { CONNECTING: 0, OPEN: 1, CLOSED: 2, UNSTABLE: 3 };

export interface GuacPageServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  close(): Promise<void>;
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>gatehouse e2e</title>
<style>html,body{margin:0;padding:0;background:#202020}</style></head>
<body><script type="module">${GUAC_PAGE_SCRIPT}</script></body></html>
`;

export async function startGuacPageServer(): Promise<GuacPageServer> {
  const library = await readFile(GUAC_COMMON_JS);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/' || path === '/index.html') send(200, 'text/html; charset=utf-8', PAGE);
    else if (path === '/guacamole-common.js') send(200, 'text/javascript; charset=utf-8', library);
    else send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${LOOPBACK}:${port}/`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

export interface GuacStatusCode {
  /** null when the server sent a non-numeric status (guacamole-lite does; see `recent` for the text). */
  code: number | null;
  /** String(Guacamole.Status.code): 'NaN' for a non-numeric status. */
  rawCode: string;
  message: string | null;
}

export interface GuacStatus {
  clientState: number | null;
  clientStates: number[];
  tunnelState: number | null;
  tunnelStates: number[];
  uuid: string | null;
  /** Client onerror: `error` instructions from the server. */
  errors: GuacStatusCode[];
  /** Tunnel onerror: the tunnel closing abnormally. */
  tunnelErrors: GuacStatusCode[];
  /** `sync` instructions received. */
  syncs: number;
  /** Instructions received, counted by opcode. */
  opcodes: Record<string, number>;
  /** The last 100 instructions received, long arguments shortened. */
  recent: string[][];
  /** Clipboard streams received from the server. */
  clipboard: { mimetype: string; text: string }[];
  displayWidth: number;
  displayHeight: number;
}

export class GuacClientPage {
  /** Console messages and page errors, the last 200. */
  readonly console: string[] = [];

  private constructor(readonly page: Page) {
    const keep = (line: string): void => {
      this.console.push(line);
      if (this.console.length > 200) this.console.shift();
    };
    page.on('console', (m) => keep(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => keep(`pageerror: ${e.message}`));
  }

  /** Loads the test page into `page` and waits until guacamole-common-js is loaded. */
  static async open(page: Page, server: GuacPageServer, timeoutMs = 10_000): Promise<GuacClientPage> {
    const p = new GuacClientPage(page);
    await page.goto(server.url, { timeout: timeoutMs });
    await page.waitForFunction(() => (globalThis as { ghReady?: boolean }).ghReady === true, undefined, {
      timeout: timeoutMs,
    });
    return p;
  }

  /** `typeof Guacamole.Client` in the page ('function' when the library loaded). */
  guacamoleClientType(): Promise<string> {
    return this.page.evaluate(
      () => typeof (globalThis as { Guacamole?: { Client?: unknown } }).Guacamole?.Client,
    );
  }

  /** Opens a WebSocketTunnel to wsUrl (the tunnel appends `?` + connectData) and connects a Client. */
  connect(wsUrl: string, connectData = ''): Promise<void> {
    return this.call('connect', wsUrl, connectData);
  }

  status(): Promise<GuacStatus> {
    return this.call('status');
  }

  /** Polls status() until `ok` holds; the failure message includes the last status. */
  async waitFor(what: string, ok: (s: GuacStatus) => boolean, timeoutMs = 10_000): Promise<GuacStatus> {
    let last: GuacStatus | undefined;
    try {
      return await pollUntil(
        what,
        async () => {
          last = await this.status();
          return ok(last) ? last : undefined;
        },
        timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last)}`);
    }
  }

  /** Waits for the first error the client sees: an `error` instruction or the tunnel closing abnormally. */
  waitForError(timeoutMs = 10_000): Promise<GuacStatus> {
    return this.waitFor('an error', (s) => s.errors.length + s.tunnelErrors.length > 0, timeoutMs);
  }

  /** Waits until at least `count` sync instructions (frames) have arrived. */
  waitForSyncs(count: number, timeoutMs = 10_000): Promise<GuacStatus> {
    return this.waitFor(`${count} syncs`, (s) => s.syncs >= count, timeoutMs);
  }

  /** RGBA of a region of the default layer, after the display has flushed what it received. */
  async readPixels(x: number, y: number, width: number, height: number): Promise<Uint8Array> {
    const b64 = await this.call<string>('readPixels', x, y, width, height);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }

  /** Polls readPixels until `ok` accepts the region; returns it. */
  async waitForPixels(
    what: string,
    rect: { x: number; y: number; width: number; height: number },
    ok: (rgba: Uint8Array) => boolean,
    timeoutMs = 10_000,
  ): Promise<Uint8Array> {
    return pollUntil(
      what,
      async () => {
        const rgba = await this.readPixels(rect.x, rect.y, rect.width, rect.height);
        return ok(rgba) ? rgba : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /** One key event, or press and release when `pressed` is omitted. */
  sendKey(keysym: number, pressed?: boolean): Promise<void> {
    return this.call('sendKey', keysym, pressed);
  }

  typeText(text: string): Promise<void> {
    return this.call('typeText', text);
  }

  /** mask: 1 left, 2 middle, 4 right, 8 wheel up, 16 wheel down. */
  sendMouse(x: number, y: number, mask = 0): Promise<void> {
    return this.call('sendMouse', x, y, mask);
  }

  /** Move, press, release. button: 1 left, 2 middle, 4 right. */
  async click(x: number, y: number, button = 1): Promise<void> {
    await this.sendMouse(x, y, 0);
    await this.sendMouse(x, y, button);
    await this.sendMouse(x, y, 0);
  }

  setClipboard(text: string, mimetype = 'text/plain'): Promise<void> {
    return this.call('setClipboard', text, mimetype);
  }

  resize(width: number, height: number): Promise<void> {
    return this.call('resize', width, height);
  }

  disconnect(): Promise<void> {
    return this.call('disconnect');
  }

  /** A PNG of the page (for debugging a failure); returns the file written. */
  async screenshot(path = join(tmpdir(), `gatehouse-e2e-${process.pid}-${Date.now()}.png`)): Promise<string> {
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  private call<T = void>(method: string, ...args: unknown[]): Promise<T> {
    return this.page.evaluate(
      ([m, a]) => {
        const gh = (globalThis as unknown as { gh: Record<string, (...x: unknown[]) => unknown> }).gh;
        const fn = gh[m as string];
        if (!fn) throw new Error(`window.gh has no ${m}`);
        return fn(...(a as unknown[]));
      },
      [method, args] as const,
    ) as Promise<T>;
  }
}
