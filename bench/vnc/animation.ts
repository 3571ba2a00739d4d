/**
 * The scripted animation the VNC benchmark watches, on an X display:
 * - full-screen colour changes: the root window's colour changes every 0.5 s (xsetroot -solid), repainting
 *   everything that no window covers;
 * - a moving window: an xterm with text, moved by xdotool 20 times a second along a loop;
 * - scrolling text: an xterm in which a small program prints lines continuously (about 100 lines/s).
 * One shell loop drives the first two (one xdotool run per colour, chaining its moves and sleeps), so the
 * driver costs a few process starts per second. Deterministic: the same path and colours every time.
 */
import type { ProcessGroup } from '../../test/e2e/helpers/processes.js';
import type { XDisplay, XWindowProcess } from '../../test/e2e/helpers/x-display.js';

const COLOURS = ['#336699', '#993333', '#339966', '#cc9900', '#663399', '#2f4f4f'];
const MOVES_PER_COLOUR = 10;
const MOVE_INTERVAL_S = 0.05;

/** Prints numbered lines of text, a few every 30 ms, forever (run with node -e inside the xterm). */
const SCROLLER = `
let n = 0;
const words = 'the quick brown fox jumps over the lazy dog while frames fly by'.split(' ');
setInterval(() => {
  let out = '';
  for (let k = 0; k < 3; k++) {
    n++;
    let line = String(n).padStart(7, ' ') + '  ';
    for (let i = 0; i < 9; i++) line += words[(n * 7 + i * 3) % words.length] + ' ';
    out += line + '\\n';
  }
  process.stdout.write(out);
}, 30);
`;

export interface Scene {
  scroller: XWindowProcess;
  mover: XWindowProcess;
  /** Starts the colour/move loop; stop() ends it. */
  start(): void;
  /** Ends the loop and the scrolling program (the windows stay, so the screen becomes static). */
  stopMotion(): Promise<void>;
}

/** Window positions along a loop over the screen's right part, `count` of them. */
export function moverPath(width: number, height: number, count: number): Array<[number, number]> {
  const cx = Math.round(width * 0.68);
  const cy = Math.round(height * 0.45);
  const rx = Math.round(width * 0.18);
  const ry = Math.round(height * 0.25);
  const path: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    const a = (2 * Math.PI * i) / count;
    path.push([cx + Math.round(rx * Math.cos(a)) - 120, cy + Math.round(ry * Math.sin(a)) - 60]);
  }
  return path;
}

/** The driver's shell script: per colour, xsetroot then one xdotool chaining the moves. */
export function driverScript(windowId: string, width: number, height: number): string {
  const path = moverPath(width, height, COLOURS.length * MOVES_PER_COLOUR);
  const steps = COLOURS.map((colour, c) => {
    const moves = path
      .slice(c * MOVES_PER_COLOUR, (c + 1) * MOVES_PER_COLOUR)
      .map(([x, y]) => `windowmove ${windowId} ${x} ${y} sleep ${MOVE_INTERVAL_S}`)
      .join(' ');
    return `xsetroot -solid '${colour}'; xdotool ${moves}`;
  });
  return `while :; do\n${steps.join('\n')}\ndone`;
}

export async function startScene(display: XDisplay): Promise<Scene> {
  const { width, height } = display.size;
  await display.setRootColor(COLOURS[0] as string);
  const cols = Math.max(40, Math.min(90, Math.floor((width * 0.55) / 6)));
  const rows = Math.max(10, Math.min(45, Math.floor((height * 0.8) / 13)));
  const scroller = await display.startXterm({
    geometry: `${cols}x${rows}+8+8`,
    args: ['-bg', '#101010', '-fg', '#d0d0d0', '-e', process.execPath, '-e', SCROLLER],
  });
  const mover = await display.startXterm({
    geometry: '36x8+600+200',
    args: [
      '-bg',
      '#f0f0d0',
      '-fg',
      '#202020',
      '-e',
      'sh',
      '-c',
      'ls -l /usr/bin | head -8; exec sleep 100000',
    ],
  });
  let driver: ProcessGroup | undefined;
  return {
    scroller,
    mover,
    start() {
      driver ??= display.spawn('sh', ['-c', driverScript(mover.windowId, width, height)]);
    },
    async stopMotion() {
      await Promise.all([driver?.stop(500), scroller.stop()]);
    },
  };
}
