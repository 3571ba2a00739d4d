/**
 * The contenders of the tunnel benchmark and how a session to each is opened. Every contender reaches the
 * same VNC server; the load generator is the same; only the path in between differs:
 *
 * - `a`      Gatehouse: client → `gatehouse proxy` (1 manager) with the built-in VNC engine in the manager
 *            → VNC server. The proxy process does the tunnel and the engine work.
 * - `a'`     Gatehouse's tunnel alone: client → `gatehouse proxy` (1 manager) → `gatehouse engine` (as an
 *            external guacd) → VNC server. The engine work is in the engine process, as for `b`.
 * - `b`      guacamole-lite 1.2.0 (npm, its own process): client → guacamole-lite → `gatehouse engine` → VNC
 *            server. The same engine process as `a'`.
 * - `a×2`    as `a` with 2 managers (session spread and throughput scaling).
 * - `direct` no tunnel: a guacd-protocol client straight to `gatehouse engine` (the latency baseline).
 *
 * For the relay-capacity phase the engine is replaced by the replaying guacd stand-in (replay-guacd.ts):
 * `a'`, `b` and `a'×2` (the 2-manager proxy with guacd targets) all in front of it.
 */
import type { Target } from '../../src/proxy/types.js';
import { LOOPBACK } from '../../test/e2e/helpers/free-port.js';
import type { VncServer } from '../../test/e2e/helpers/vnc-servers.js';
import type { BenchEngine } from '../vnc/processes.js';
import type { SessionSpec } from './client-protocol.js';
import type { BenchProxy, LiteProcess } from './processes.js';
import { CLIENT_IMAGE_TYPES } from './sessions.js';

export type ContenderId = 'a' | "a'" | 'b' | 'a×2' | "a'×2" | 'direct';

export interface Contender {
  id: ContenderId;
  label: string;
  /** The tunnel process (CPU and memory measured), or null (direct). */
  tunnelPid: number | null;
  /** The separate engine process the contender uses, or null (engine inside the tunnel process). */
  enginePid: number | null;
  /** The proxy, for /health (per-manager session counts). */
  proxy?: BenchProxy;
  /** A new session's spec (a fresh single-use token for the proxies). */
  spec(vnc: VncServer): Promise<SessionSpec>;
}

export interface ContenderWorld {
  width: number;
  height: number;
  engine: BenchEngine;
  lite: LiteProcess;
  /** 1 manager, built-in engine targets. */
  proxyBuiltin: BenchProxy;
  /** 1 manager, targets with guacd = the engine. */
  proxyTunnel: BenchProxy;
  /** 2 managers, built-in engine targets. */
  proxyTwo: BenchProxy;
}

export const CONTENDER_LABELS: Readonly<Record<ContenderId, string>> = Object.freeze({
  a: '(a) proxy, built-in engine',
  "a'": "(a') proxy → gatehouse engine",
  b: '(b) guacamole-lite → gatehouse engine',
  'a×2': '(a) proxy ×2 managers, built-in engine',
  "a'×2": "(a') proxy ×2 managers → guacd",
  direct: 'direct to gatehouse engine (no tunnel)',
});

/** The tunnel URL of a Gatehouse proxy session: the token plus the display the clients all ask for. */
export function proxyUrl(port: number, token: string, width: number, height: number): string {
  const q = new URLSearchParams({
    token,
    width: String(width),
    height: String(height),
    image: CLIENT_IMAGE_TYPES.join(','),
  });
  return `ws://${LOOPBACK}:${port}/tunnel?${q.toString()}`;
}

const display = (w: ContenderWorld) => ({ width: w.width, height: w.height, image: CLIENT_IMAGE_TYPES });

/** A proxy session's spec: a fresh token for the VNC target, through guacd at `guacdPort` if given. */
function viaProxy(w: ContenderWorld, proxy: BenchProxy, guacdPort?: number) {
  return async (vnc: VncServer): Promise<SessionSpec> => {
    const target: Target = { protocol: 'vnc', params: { hostname: vnc.host, port: String(vnc.port) } };
    if (guacdPort) target.guacd = `guacd://${LOOPBACK}:${guacdPort}`;
    return { kind: 'ws', url: proxyUrl(proxy.port, await proxy.token(target), w.width, w.height) };
  };
}

export function makeContenders(w: ContenderWorld): Record<Exclude<ContenderId, "a'×2">, Contender> {
  return {
    a: {
      id: 'a',
      label: CONTENDER_LABELS.a,
      tunnelPid: w.proxyBuiltin.pid,
      enginePid: null,
      proxy: w.proxyBuiltin,
      spec: viaProxy(w, w.proxyBuiltin),
    },
    "a'": {
      id: "a'",
      label: CONTENDER_LABELS["a'"],
      tunnelPid: w.proxyTunnel.pid,
      enginePid: w.engine.pid,
      proxy: w.proxyTunnel,
      spec: viaProxy(w, w.proxyTunnel, w.engine.port),
    },
    b: {
      id: 'b',
      label: CONTENDER_LABELS.b,
      tunnelPid: w.lite.pid,
      enginePid: w.engine.pid,
      spec: async (vnc) => ({ kind: 'ws', url: w.lite.url(vnc, display(w)) }),
    },
    'a×2': {
      id: 'a×2',
      label: CONTENDER_LABELS['a×2'],
      tunnelPid: w.proxyTwo.pid,
      enginePid: null,
      proxy: w.proxyTwo,
      spec: viaProxy(w, w.proxyTwo),
    },
    direct: {
      id: 'direct',
      label: CONTENDER_LABELS.direct,
      tunnelPid: null,
      enginePid: w.engine.pid,
      spec: async (vnc) => ({
        kind: 'guacd',
        host: LOOPBACK,
        port: w.engine.port,
        vncHost: vnc.host,
        vncPort: vnc.port,
        width: w.width,
        height: w.height,
      }),
    },
  };
}

/** The relay-capacity contenders, all in front of the replaying guacd (its CPU shows as the engine's). */
export function makeRelayContenders(w: ContenderWorld, replay: { port: number; pid: number }): Contender[] {
  return [
    {
      id: "a'",
      label: CONTENDER_LABELS["a'"],
      tunnelPid: w.proxyTunnel.pid,
      enginePid: replay.pid,
      proxy: w.proxyTunnel,
      spec: viaProxy(w, w.proxyTunnel, replay.port),
    },
    {
      id: 'b',
      label: CONTENDER_LABELS.b,
      tunnelPid: w.lite.pid,
      enginePid: replay.pid,
      spec: async (vnc) => ({ kind: 'ws', url: w.lite.url(vnc, display(w), replay.port) }),
    },
    {
      id: "a'×2",
      label: CONTENDER_LABELS["a'×2"],
      tunnelPid: w.proxyTwo.pid,
      enginePid: replay.pid,
      proxy: w.proxyTwo,
      spec: viaProxy(w, w.proxyTwo, replay.port),
    },
  ];
}
