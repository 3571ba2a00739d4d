/**
 * A connection manager: the worker-thread entry. It owns a uWebSockets.js App listening on the proxy's port
 * (SO_REUSEPORT: every manager listens, the kernel spreads connections), its tunnels end to end (WebSocket,
 * backend and the backend's sockets), and answers /health, /metrics and the client page.
 *
 * A JavaScript exception that escapes anything here closes this manager's sockets and ends the thread
 * (exit code 1); the supervisor restarts it. Other managers are not affected.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uws-pack';
import { builtinEngines } from '../../engine/registry.js';
import { createLogger } from '../../log/logger.js';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import { STATUS, statusName, wsCloseCodeFor } from '../../protocol/guacamole/status.js';
import { createRedeemer } from '../auth/index.js';
import { CLIENT_ASSETS, CLIENT_CSP, clientAssetsDir } from '../client-assets.js';
import { parseConnectData } from '../tunnel/index.js';
import { TunnelError } from '../types.js';
import { loadUws } from '../uws.js';
import { healthOf } from './health.js';
import type { FromManager, ManagerData, ToManager } from './messages.js';
import { ManagerMetrics } from './metrics.js';
import { StatsBoard } from './stats-board.js';
import { TunnelSession, type TunnelSocket } from './tunnel-session.js';

const data = workerData as ManagerData;
const port = parentPort;
if (!port) throw new Error('the connection manager must run in a worker thread');

const config = data.config;
const pcfg = config.proxy;
const log = createLogger(config, { role: 'proxy', manager: data.index });
const board = new StatsBoard(data.board);
const metrics = new ManagerMetrics(data.index);
const engines = builtinEngines(config);
const uws = await loadUws();

const post = (m: FromManager): void => port.postMessage(m);

// ---- single use of token ids, across managers (the supervisor keeps the registry) ----

let nextId = 1;
const claims = new Map<number, (ok: boolean) => void>();
function claimOnce(jti: string, expiresAt: number): Promise<boolean> {
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      claims.delete(id);
      resolve(false);
    }, 5000);
    claims.set(id, (ok) => {
      clearTimeout(timer);
      resolve(ok);
    });
    post({ type: 'claim', id, jti, expiresAt });
  });
}
const redeemer = createRedeemer(config, { claimOnce, log });

// ---- tunnels ----

interface TunnelData {
  remoteAddress: string;
  userAgent: string;
  query: string;
  refused?: { status: number; message: string };
  session?: TunnelSession;
  closed: boolean;
}

const sessions = new Set<TunnelSession>();
let sessionsTotal = 0;
const toFlush = new Set<TunnelSession>();
let flushQueued = false;

function scheduleFlush(s: TunnelSession): void {
  toFlush.add(s);
  if (flushQueued) return;
  flushQueued = true;
  setImmediate(() => {
    flushQueued = false;
    const batch = [...toFlush];
    toFlush.clear();
    for (const t of batch) t.flush();
  });
}

function socketFor(ws: WebSocket<TunnelData>): TunnelSocket {
  const d = ws.getUserData();
  return {
    send: (m) => (d.closed ? 2 : ws.send(m, false)),
    get bufferedAmount() {
      return d.closed ? 0 : ws.getBufferedAmount();
    },
    end: (code, reason) => {
      if (!d.closed) ws.end(code, reason);
    },
    cork: (fn) => {
      if (d.closed) fn();
      else ws.cork(fn);
    },
  };
}

function refuse(ws: WebSocket<TunnelData>, status: number, message: string): void {
  ws.cork(() => {
    ws.send(encodeInstruction('error', message, status), false);
    ws.end(wsCloseCodeFor(status), String(status));
  });
  metrics.errors.inc({ status: statusName(status) });
}

/** Why a new tunnel cannot be opened now, or undefined. */
function refusal(d: TunnelData): { status: number; message: string } | undefined {
  if (d.refused) return d.refused;
  if (board.draining) return { status: STATUS.SESSION_CLOSED, message: 'The server is shutting down' };
  if (sessions.size >= pcfg.maxSessionsPerManager) {
    log.warn({ sessions: sessions.size }, 'proxy: manager full, tunnel refused');
    return { status: STATUS.SERVER_BUSY, message: 'The server is busy' };
  }
  return undefined;
}

function openTunnel(ws: WebSocket<TunnelData>): void {
  const d = ws.getUserData();
  const no = refusal(d);
  if (no) {
    refuse(ws, no.status, no.message);
    return;
  }
  let connect: ReturnType<typeof parseConnectData>;
  try {
    connect = parseConnectData(d.query);
  } catch (err) {
    const e =
      err instanceof TunnelError ? err : new TunnelError(STATUS.CLIENT_BAD_REQUEST, 'Bad connect data');
    log.warn({ status: e.status }, `proxy: bad connect data: ${e.message}`);
    refuse(ws, e.status, e.message);
    return;
  }
  if (connect.ignored.length > 0) log.debug({ ignored: connect.ignored }, 'proxy: connect data keys ignored');
  const session = new TunnelSession({
    socket: socketFor(ws),
    token: connect.token,
    client: connect.client,
    remoteAddress: d.remoteAddress,
    userAgent: d.userAgent,
    redeemer,
    engines,
    log,
    highWaterMark: pcfg.highWaterMark,
    batchBytes: pcfg.batchBytes,
    scheduleFlush,
    onReady: (_s, seconds, protocol) => {
      metrics.handshakeSeconds.observe({ protocol }, seconds);
      metrics.sessionsStarted.inc({ protocol });
      metrics.sessions.inc({ protocol, manager: String(data.index) });
    },
    onEnd: (s, end, protocol) => {
      sessions.delete(s);
      board.setSessions(data.index, sessions.size, sessionsTotal);
      toFlush.delete(s);
      metrics.bytes.inc({ direction: 'in' }, s.counters.bytesIn);
      metrics.bytes.inc({ direction: 'out' }, s.counters.bytesOut);
      metrics.instructions.inc({ direction: 'in' }, s.counters.instructionsIn);
      metrics.instructions.inc({ direction: 'out' }, s.counters.instructionsOut);
      if (protocol !== 'unknown') metrics.sessions.dec({ protocol, manager: String(data.index) });
      if (end.status !== STATUS.SUCCESS) metrics.errors.inc({ status: statusName(end.status) });
    },
  });
  d.session = session;
  sessions.add(session);
  sessionsTotal++;
  board.setSessions(data.index, sessions.size, sessionsTotal);
}

// ---- HTTP routes ----

const assets = new Map<string, { body: Buffer; contentType: string }>();
for (const [path, a] of Object.entries(CLIENT_ASSETS)) {
  try {
    assets.set(path, { body: readFileSync(`${clientAssetsDir()}/${a.file}`), contentType: a.contentType });
  } catch (err) {
    if (data.index === 0)
      log.warn(`proxy: client page asset ${a.file} missing (${(err as Error).message}); run the build`);
  }
}

const metricsWaiting = new Map<number, { res: HttpResponse; aborted: boolean }>();

function routes(app: TemplatedApp): void {
  app.ws<TunnelData>('/tunnel', {
    maxPayloadLength: pcfg.maxMessageBytes,
    maxBackpressure: Math.max(16 << 20, pcfg.highWaterMark * 8),
    closeOnBackpressureLimit: false,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade: (res: HttpResponse, req: HttpRequest, context) => {
      const protocols = req.getHeader('sec-websocket-protocol');
      const d: TunnelData = {
        remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
        userAgent: req.getHeader('user-agent').slice(0, 256),
        query: req.getQuery() ?? '',
        closed: false,
      };
      if (!protocols.split(',').some((p) => p.trim() === 'guacamole')) {
        d.refused = {
          status: STATUS.CLIENT_BAD_REQUEST,
          message: 'The WebSocket subprotocol must be "guacamole"',
        };
      }
      res.upgrade(
        d,
        req.getHeader('sec-websocket-key'),
        d.refused ? '' : 'guacamole',
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => openTunnel(ws as WebSocket<TunnelData>),
    message: (ws, message) => {
      // The ArrayBuffer is valid only during this call: the session copies what it keeps.
      ws.getUserData().session?.onMessage(new Uint8Array(message));
    },
    drain: (ws) => ws.getUserData().session?.socketDrained(),
    close: (ws, code) => {
      const d = ws.getUserData();
      d.closed = true;
      d.session?.onClose(code);
    },
  });
  app.get('/health', (res) => {
    const h = healthOf(board, data.version, Date.now());
    res.cork(() => {
      res.writeStatus(h.code === 200 ? '200 OK' : '503 Service Unavailable');
      res.writeHeader('content-type', 'application/json');
      res.writeHeader('cache-control', 'no-store');
      res.end(JSON.stringify(h.body));
    });
  });
  app.get('/metrics', (res) => {
    const id = nextId++;
    const entry = { res, aborted: false };
    res.onAborted(() => {
      entry.aborted = true;
      metricsWaiting.delete(id);
    });
    metricsWaiting.set(id, entry);
    post({ type: 'metrics-request', id });
  });
  for (const [path, a] of assets) {
    app.get(path, (res) => {
      res.cork(() => {
        res.writeHeader('content-type', a.contentType);
        res.writeHeader('content-security-policy', CLIENT_CSP);
        res.writeHeader('cache-control', path === '/' ? 'no-store' : 'no-cache');
        res.writeHeader('x-content-type-options', 'nosniff');
        res.writeHeader('referrer-policy', 'no-referrer');
        res.end(a.body);
      });
    });
  }
  app.any('/*', (res) => {
    res.cork(() => res.writeStatus('404 Not Found').end('Not found\n'));
  });
}

// ---- the listener, timers, supervisor messages ----

const app = uws.App();
routes(app);
let listenSocket: us_listen_socket | false = false;
app.listen(data.host, data.port, (s) => {
  listenSocket = s;
  if (s) post({ type: 'listening', port: uws.us_socket_local_port(s) });
  else post({ type: 'listen-failed', message: `cannot listen on ${data.host}:${data.port}` });
});

const LAG_RESOLUTION_MS = 50;
const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
lag.enable();
function report(): void {
  // The histogram measures the sampling timer's whole period; the lag is what exceeds the resolution.
  const mean = Number.isFinite(lag.mean) ? Math.max(0, lag.mean / 1e6 - LAG_RESOLUTION_MS) : 0;
  const max = Math.max(0, lag.max / 1e6 - LAG_RESOLUTION_MS);
  lag.reset();
  board.report(data.index, sessions.size, sessionsTotal, mean, max, Date.now());
  metrics.eventLoopLag.set({ manager: String(data.index) }, mean / 1000);
}
report();
const reportTimer = setInterval(report, 500);

const NOP_AFTER_MS = 5000;
const keepaliveTimer = setInterval(() => {
  const now = Date.now();
  for (const s of sessions) {
    if (now - s.lastReceived >= pcfg.clientTimeoutMs) {
      s.close({ status: STATUS.CLIENT_TIMEOUT, message: 'User is not responding.' });
    } else if (now - s.lastSent >= NOP_AFTER_MS) {
      s.sendNop();
    }
  }
}, 1000);

function stopListening(): void {
  if (listenSocket) uws.us_listen_socket_close(listenSocket);
  listenSocket = false;
}

function exitNow(code: number): void {
  clearInterval(reportTimer);
  clearInterval(keepaliveTimer);
  lag.disable();
  stopListening();
  app.close();
  process.exit(code);
}

port.on('message', (m: ToManager) => {
  switch (m.type) {
    case 'claimed':
      claims.get(m.id)?.(m.ok);
      claims.delete(m.id);
      break;
    case 'metrics-collect':
      void metrics.registry
        .getMetricsAsJSON()
        .then((json) => post({ type: 'metrics', id: m.id, metrics: json }));
      break;
    case 'metrics-text': {
      const w = metricsWaiting.get(m.id);
      metricsWaiting.delete(m.id);
      if (!w || w.aborted) break;
      w.res.cork(() => {
        w.res.writeHeader('content-type', m.contentType);
        w.res.end(m.text);
      });
      break;
    }
    case 'shutdown':
      stopListening();
      for (const s of [...sessions]) s.close({ status: m.status, message: m.message });
      // Let the close frames go out, then stop.
      setTimeout(() => {
        post({ type: 'stopped' });
        exitNow(0);
      }, 200);
      break;
    case 'crash':
      setImmediate(() => {
        throw new Error('fault injection: connection manager crash requested');
      });
      break;
  }
});

let crashed = false;
process.on('uncaughtException', (err) => {
  if (crashed) return;
  crashed = true;
  log.fatal(
    { err, sessions: sessions.size },
    `proxy: connection manager ${data.index} crashed: ${err.message}`,
  );
  // Tell this manager's browsers why (each on its own: the state may be damaged), then close everything.
  for (const s of [...sessions]) {
    try {
      s.close({ status: STATUS.SERVER_ERROR, message: 'The connection manager failed; please reconnect' });
    } catch {
      // go on with the others
    }
  }
  setTimeout(() => {
    try {
      exitNow(1);
    } catch {
      process.exit(1);
    }
  }, 100).unref();
});
process.on('unhandledRejection', (reason) => {
  log.error({ err: reason }, 'proxy: unhandled rejection in a connection manager');
});
