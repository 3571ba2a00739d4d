// `gatehouse proxy` (the built CLI) as a child process on a free loopback port, with a fresh Ed25519 key pair
// for signed tokens, plus a minimal Guacamole WebSocket client (the `ws` package guacamole-lite depends on)
// for tests that need many sessions or bad input rather than a browser.
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuacamoleParser, type Instruction } from '../../../src/protocol/guacamole/parser.js';
import { generateSigningKeyPair } from '../../../src/proxy/auth/keys.js';
import { mintToken } from '../../../src/proxy/auth/mint.js';
import type { Policy, Target } from '../../../src/proxy/types.js';
import { fromRoot } from '../../helpers/paths.js';
import { freePort, LOOPBACK, waitForPort } from './free-port.js';
import { jsonLines, ProcessGroup, pollUntil, registerTempDir, removeTempDir } from './processes.js';

export interface ProxyProcess {
  port: number;
  url: string;
  process: ProcessGroup;
  logs(): Array<Record<string, unknown>>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** A signed token for one session to `target`. */
  token(target: Target, policy?: Partial<Policy>, ttlSeconds?: number): Promise<string>;
  health(): Promise<{ code: number; body: HealthBody }>;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export interface HealthBody {
  status: string;
  draining: boolean;
  sessions: number;
  managers: Array<{ index: number; alive: boolean; sessions: number; restarts: number; healthy: boolean }>;
}

export interface ProxyStartOptions {
  managers?: number;
  /** Listen port (default: a free one). */
  port?: number;
  env?: Record<string, string>;
  args?: string[];
}

export async function startGatehouseProxy(opts: ProxyStartOptions = {}): Promise<ProxyProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-proxy-'));
  registerTempDir(dir);
  const pair = generateSigningKeyPair();
  await writeFile(join(dir, 'public.pem'), pair.publicPem);
  const privateKey = createPrivateKey(pair.privatePem);
  const port = opts.port ?? (await freePort());
  const group = new ProcessGroup(
    process.execPath,
    [
      fromRoot('dist/src/cli/main.js'),
      'proxy',
      '--listen',
      `${LOOPBACK}:${port}`,
      '--guac-cluster-size',
      String(opts.managers ?? 2),
      '--log-format',
      'json',
      ...(opts.args ?? []),
    ],
    {
      env: {
        ...process.env,
        GATEHOUSE_PROXY_AUTH__SIGNED__PUBLIC_KEYS: join(dir, 'public.pem'),
        GATEHOUSE_LOG__LEVEL: 'debug',
        ...opts.env,
      },
    },
  );
  await waitForPort(port, 20_000, () =>
    group.hasExited ? `gatehouse proxy exited:\n${group.output()}` : undefined,
  );
  // The port answers as soon as the first manager listens; the start-up line comes once all of them do.
  await pollUntil(
    'all connection managers listening',
    () => {
      if (group.hasExited) throw new Error(`gatehouse proxy exited:\n${group.output()}`);
      return group.output().includes('proxy listening on port') ? true : undefined;
    },
    30_000,
  );
  const logs = (): Array<Record<string, unknown>> => jsonLines(group.output());
  const base = `http://${LOOPBACK}:${port}`;
  return {
    port,
    url: base,
    process: group,
    logs,
    waitForLog: (pattern, timeoutMs = 10_000) =>
      pollUntil(
        `proxy log ${pattern}`,
        () => logs().find((l) => pattern.test(String(l.msg ?? ''))),
        timeoutMs,
      ),
    token: (target, policy, ttlSeconds = 120) =>
      mintToken({ privateKey, kid: pair.kid, target, ...(policy ? { policy } : {}), ttlSeconds }),
    async health() {
      const r = await fetch(`${base}/health`);
      return { code: r.status, body: (await r.json()) as HealthBody };
    },
    async metrics() {
      return (await fetch(`${base}/metrics`)).text();
    },
    async stop() {
      await group.stop(8000);
      await removeTempDir(dir);
    },
  };
}

/** A lean Guacamole tunnel client over `ws`: answers `sync`, collects instructions, reports the close. */
export class TunnelClient {
  readonly received: Instruction[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  syncs = 0;
  uuid: string | null = null;
  private readonly parser = new GuacamoleParser();
  private readonly ws: WsLike;
  private answerSyncs = true;

  private readonly pinger: NodeJS.Timeout;

  private constructor(ws: WsLike) {
    this.ws = ws;
    // As guacamole-common-js does: a tunnel ping every 500 ms keeps the proxy's silent-client timer quiet.
    this.pinger = setInterval(() => this.send(`0.,4.ping,${String(Date.now()).length}.${Date.now()};`), 500);
    this.pinger.unref();
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        clearInterval(this.pinger);
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('message', (data: Buffer) => {
      for (const i of this.parser.feed(data)) {
        if (i.opcode === '' && this.uuid === null) this.uuid = i.args[0] ?? null;
        if (this.received.length < 10_000) this.received.push(i);
        if (i.opcode === 'sync') {
          this.syncs++;
          if (this.answerSyncs) this.send(`4.sync,${len(i.args[0])}.${i.args[0]};`);
        }
      }
    });
    ws.on('error', () => {});
  }

  static async open(proxy: { port: number }, query: string): Promise<TunnelClient> {
    return TunnelClient.openUrl(`ws://${LOOPBACK}:${proxy.port}/tunnel?${query}`);
  }

  /** A tunnel at any URL (ws: or wss:), with extra request headers (a cookie) and a CA for wss:. */
  static async openUrl(
    url: string,
    opts: { headers?: Record<string, string>; ca?: string } = {},
  ): Promise<TunnelClient> {
    const WebSocket = wsConstructor();
    const ws = new WebSocket(url, 'guacamole', opts);
    const client = new TunnelClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (e: unknown) => reject(e as Error));
      ws.once('unexpected-response', () => reject(new Error('the proxy refused the WebSocket upgrade')));
    });
    return client;
  }

  send(text: string | Buffer): void {
    if (this.ws.readyState === 1) this.ws.send(text);
  }

  stopAnsweringSyncs(): void {
    this.answerSyncs = false;
  }

  errors(): Instruction[] {
    return this.received.filter((i) => i.opcode === 'error');
  }

  async waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
    await pollUntil(what, () => (ok() ? true : undefined), timeoutMs, 20);
  }

  close(): void {
    clearInterval(this.pinger);
    this.ws.close();
  }
}

const len = (s: string | undefined): number => [...(s ?? '')].length;

interface WsLike {
  on(event: string, cb: (...args: never[]) => void): void;
  once(event: string, cb: (...args: never[]) => void): void;
  send(data: string | Buffer): void;
  close(): void;
  readyState: number;
}

function wsConstructor(): new (url: string, protocol: string, options?: object) => WsLike {
  const require = createRequire(import.meta.url);
  return require('ws') as new (
    url: string,
    protocol: string,
    options?: object,
  ) => WsLike;
}

/** The query for a tunnel: token plus a display size. */
export function tunnelQuery(token: string, width = 640, height = 480): string {
  return new URLSearchParams({ token, width: String(width), height: String(height) }).toString();
}

/** /proc figures of a process: RSS (bytes) and open file descriptors. */
export async function procFigures(pid: number): Promise<{ rss: number; fds: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  const { readdir } = await import('node:fs/promises');
  const fds = (await readdir(`/proc/${pid}/fd`)).length;
  return { rss, fds };
}
