// The system programs the end-to-end tests start, and the Debian package each comes from, so a test can skip
// with a message naming what to install (scripts/install-system-deps.sh test installs them all).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const BINARY_PACKAGES = {
  Xvfb: 'xvfb',
  x11vnc: 'x11vnc',
  Xvnc: 'tigervnc-standalone-server',
  vncpasswd: 'tigervnc-tools',
  xterm: 'xterm',
  xeyes: 'x11-apps',
  xwd: 'x11-apps',
  xdpyinfo: 'x11-utils',
  xev: 'x11-utils',
  xwininfo: 'x11-utils',
  xprop: 'x11-utils',
  xsetroot: 'x11-xserver-utils',
  xdotool: 'xdotool',
  xclip: 'xclip',
  chromium: 'chromium',
  'freerdp-shadow-cli': 'freerdp2-shadow-x11',
  xfreerdp: 'freerdp2-x11',
  'winpr-hash': 'winpr-utils',
  xrdp: 'xrdp',
  'xrdp-sesman': 'xrdp',
  'xrdp-chansrv': 'xrdp',
  'xrdp-keygen': 'xrdp',
  Xorg: 'xserver-xorg-core',
  xauth: 'xauth',
  openssl: 'openssl',
  unshare: 'util-linux',
  useradd: 'passwd',
} as const;

export type Binary = keyof typeof BINARY_PACKAGES;

/** The browser the tests drive; GATEHOUSE_CHROMIUM overrides it. */
export const CHROMIUM_PATH = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';

function onPath(name: string): boolean {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, name));
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The binaries of `needed` that cannot be found. */
export function missingBinaries(needed: readonly Binary[]): Binary[] {
  return needed.filter((b) => !onPath(b === 'chromium' ? CHROMIUM_PATH : b));
}

/**
 * undefined when all of `needed` are installed, else a skip message naming the missing programs and their
 * packages, e.g. "missing Xvnc (apt-get install tigervnc-standalone-server)".
 */
export function skipUnlessInstalled(needed: readonly Binary[]): string | undefined {
  const missing = missingBinaries(needed);
  if (missing.length === 0) return undefined;
  const pkgs = [...new Set(missing.map((b) => BINARY_PACKAGES[b]))].join(' ');
  return `missing ${missing.join(', ')} (apt-get install ${pkgs}; or bash scripts/install-system-deps.sh test)`;
}
