/**
 * The processes of the RDP benchmark: the remote desktop (an Xvfb shared by freerdp-shadow-cli over TLS on
 * loopback), the native baseline (xfreerdp drawing on its own Xvfb), and lookups of the engine's per-session
 * gatehouse-rdp process (a child of `gatehouse engine`) and of X servers by pid.
 */

import { pollUntil } from '../../test/e2e/helpers/processes.js';
import {
  type ShadowServer,
  startShadowServer,
  startXfreerdpViewer,
  type XfreerdpViewer,
} from '../../test/e2e/helpers/rdp-servers.js';
import { startXvfb, type XDisplay } from '../../test/e2e/helpers/x-display.js';
import { forEachProcess, statParent } from '../helpers/proc-walk.js';

/** The command name (comm) in a /proc stat line. */
export function statComm(stat: string): string {
  return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
}

/** Pids of the live direct children of `parent` named `comm`. */
export function childPids(parent: number, comm: string): number[] {
  const out: number[] = [];
  forEachProcess((pid, read) => {
    const stat = read('stat');
    if (statParent(stat) === parent && statComm(stat) === comm && !/^\S+ \(.*\) Z/.test(stat)) out.push(pid);
  });
  return out;
}

/** Starts an Xvfb and returns it with its pid (the Xvfb child of ours that was not there before). */
async function xvfbWithPid(width: number, height: number): Promise<{ display: XDisplay; pid: number }> {
  const before = new Set(childPids(process.pid, 'Xvfb'));
  const display = await startXvfb({ width, height });
  const pid = childPids(process.pid, 'Xvfb').find((p) => !before.has(p)) ?? -1;
  return { display, pid };
}

export interface RemoteDesktop {
  display: XDisplay;
  shadow: ShadowServer;
  /** The shared display's X server. */
  xvfbPid: number;
  stop(): Promise<void>;
}

/** Xvfb at width×height shared by freerdp-shadow-cli (/sec:tls, no authentication) on a loopback port. */
export async function startRemoteDesktop(width: number, height: number): Promise<RemoteDesktop> {
  const { display, pid } = await xvfbWithPid(width, height);
  try {
    const shadow = await startShadowServer({ display, security: 'tls' });
    return {
      display,
      shadow,
      xvfbPid: pid,
      stop: async () => {
        await shadow.stop();
        await display.stop();
      },
    };
  } catch (err) {
    await display.stop();
    throw err;
  }
}

/**
 * xfreerdp's options for the baseline: the same graphics path as the engine (GFX with progressive, 32 bpp)
 * and none of the channels the engine does not open (clipboard, audio).
 */
export const XFREERDP_ARGS = ['/gfx', '+gfx-progressive', '/bpp:32', '-clipboard', '/audio-mode:2'];

export interface NativeViewer {
  viewer: XfreerdpViewer;
  /** xfreerdp's own X server. */
  xvfbPid: number;
  stop(): Promise<void>;
}

/** xfreerdp connected to the shadow server, drawing on its own Xvfb; resolves once its window is up. */
export async function startNativeViewer(
  shadow: ShadowServer,
  width: number,
  height: number,
  args: readonly string[] = XFREERDP_ARGS,
): Promise<NativeViewer> {
  const { display, pid } = await xvfbWithPid(width, height);
  let viewer: XfreerdpViewer | undefined;
  const stop = async (): Promise<void> => {
    await viewer?.stop();
    await display.stop();
  };
  try {
    viewer = await startXfreerdpViewer({
      server: shadow,
      display,
      security: 'tls',
      width,
      height,
      extraArgs: [...args],
    });
    await viewer.waitConnected(20_000);
    return { viewer, xvfbPid: pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The engine's gatehouse-rdp process for the one session it serves (waits up to `timeoutMs` for it). */
export function sessionProcess(enginePid: number, timeoutMs = 5000): Promise<number> {
  return pollUntil(
    'the gatehouse-rdp process of the session',
    () => {
      const pids = childPids(enginePid, 'gatehouse-rdp');
      if (pids.length > 1)
        throw new Error(`the engine runs ${pids.length} gatehouse-rdp processes, expected 1`);
      return pids[0];
    },
    timeoutMs,
    20,
  );
}

/** Waits until the engine has no gatehouse-rdp child left (a closed session's process has exited). */
export async function noSessionProcess(enginePid: number, timeoutMs = 8000): Promise<void> {
  await pollUntil(
    'the closed session’s gatehouse-rdp to exit',
    () => (childPids(enginePid, 'gatehouse-rdp').length === 0 ? true : undefined),
    timeoutMs,
    20,
  );
}
