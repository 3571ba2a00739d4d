/** The VNC server a benchmark watches: TigerVNC Xvnc, or Xvfb with x11vnc in front (bench/vnc, bench/tunnel). */
import { startX11vnc, startXvnc, type VncServer } from '../../test/e2e/helpers/vnc-servers.js';
import { startXvfb } from '../../test/e2e/helpers/x-display.js';
import { findChild } from '../vnc/proc-stats.js';

export type VncServerKind = 'x11vnc' | 'xvnc';

export interface BenchVncServer {
  vnc: VncServer;
  /** The VNC server process (Xvnc or x11vnc), or -1 if it was not found. */
  pid: number;
  /** Stops the VNC server, then its Xvfb (x11vnc). */
  stop(): Promise<void>;
}

/** Starts the server at width×height; `xvncArgs` are more Xvnc options. */
export async function startVncServer(
  kind: VncServerKind,
  o: { width: number; height: number; xvncArgs?: string[] },
): Promise<BenchVncServer> {
  const { width, height } = o;
  if (kind === 'xvnc') {
    const vnc = await startXvnc({ width, height, ...(o.xvncArgs ? { extraArgs: o.xvncArgs } : {}) });
    return { vnc, pid: findChild(process.pid, 'Xvnc'), stop: () => vnc.stop() };
  }
  const display = await startXvfb({ width, height });
  try {
    const vnc = await startX11vnc(display);
    const stop = async (): Promise<void> => {
      await vnc.stop();
      await display.stop();
    };
    return { vnc, pid: findChild(process.pid, 'x11vnc'), stop };
  } catch (err) {
    await display.stop();
    throw err;
  }
}
