// The configuration files of a test xrdp (see xrdp-server.ts): xrdp.ini, sesman.ini and the session's
// startwm.sh rendered as text (pure), and the whole temp tree written: etc/ (mounted over /etc/xrdp: the
// configs, the keymaps copied from the system's /etc/xrdp, an RSA key file, a self-signed certificate),
// run/sockdir (mounted over /run/xrdp), log/ (owned by the account: Xorg writes there).
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './processes.js';
import type { TestUser } from './test-users.js';

/** PATH with the sbin directories (xrdp, xrdp-sesman, xrdp-keygen live in /usr/sbin or /usr/bin). */
export const SBIN_PATH = `/usr/local/sbin:/usr/sbin:/sbin:${process.env.PATH ?? '/usr/bin:/bin'}`;

export type XrdpSecurity = 'tls' | 'negotiate' | 'rdp';
export type XrdpCryptLevel = 'low' | 'medium' | 'high' | 'fips';

/** The session's X server: Xorg with xorgxrdp (libxup), or Xvnc behind xrdp's VNC module (libvnc). */
export type XrdpBackend = 'Xorg' | 'Xvnc';

export interface XrdpIniOptions {
  port: number;
  backend: XrdpBackend;
  security: XrdpSecurity;
  /** Standard RDP Security encryption level (security rdp/negotiate). */
  cryptLevel: XrdpCryptLevel;
  /** Absolute path of xrdp's log file. */
  logFile: string;
  level: string;
}

export function renderXrdpIni(o: XrdpIniOptions): string {
  return `[Globals]
ini_version=1
fork=true
port=tcp://127.0.0.1:${o.port}
use_vsock=false
tcp_nodelay=true
tcp_keepalive=true
security_layer=${o.security}
crypt_level=${o.cryptLevel}
certificate=/etc/xrdp/cert.pem
key_file=/etc/xrdp/key.pem
ssl_protocols=TLSv1.2, TLSv1.3
autorun=${o.backend}
require_credentials=true
allow_channels=true
allow_multimon=true
bitmap_cache=true
bitmap_compression=true
bulk_compression=true
max_bpp=32
new_cursors=true
use_fastpath=both

[Logging]
LogFile=${o.logFile}
LogLevel=${o.level}
EnableSyslog=false
EnableConsole=true
ConsoleLevel=${o.level}

[Channels]
rdpdr=true
rdpsnd=true
drdynvc=true
cliprdr=true
rail=true
xrdpvr=true
tcutils=true

[Xorg]
name=Xorg
lib=libxup.so
username=ask
password=ask
ip=127.0.0.1
port=-1
code=20

[Xvnc]
name=Xvnc
lib=libvnc.so
username=ask
password=ask
ip=127.0.0.1
port=-1
`;
}

export interface SesmanIniOptions {
  sesmanPort: number;
  displayOffset: number;
  logFile: string;
  /** Xorg -logfile (%s: the display number). */
  xorgLog: string;
  level: string;
}

export function renderSesmanIni(o: SesmanIniOptions): string {
  return `[Globals]
ListenAddress=127.0.0.1
ListenPort=${o.sesmanPort}
EnableUserWindowManager=false
UserWindowManager=startwm.sh
DefaultWindowManager=startwm.sh
ReconnectScript=reconnectwm.sh

[Security]
AllowRootLogin=false
MaxLoginRetry=4
AlwaysGroupCheck=false
RestrictOutboundClipboard=none
RestrictInboundClipboard=none

[Sessions]
X11DisplayOffset=${o.displayOffset}
MaxSessions=20
KillDisconnected=false
DisconnectedTimeLimit=0
IdleTimeLimit=0
Policy=Default

[Logging]
LogFile=${o.logFile}
LogLevel=${o.level}
EnableSyslog=false
EnableConsole=true
ConsoleLevel=${o.level}

[Xorg]
param=/usr/lib/xorg/Xorg
param=-config
param=xrdp/xorg.conf
param=-noreset
param=-nolisten
param=tcp
param=-logfile
param=${o.xorgLog}

[Xvnc]
param=Xvnc
param=-bs
param=-nolisten
param=tcp
param=-localhost
param=-dpi
param=96

[Chansrv]
FuseMountName=thinclient_drives
FileUmask=077
EnableFuseMount=false

[ChansrvLogging]
LogLevel=${o.level}
EnableSyslog=false
EnableConsole=false

[SessionVariables]
`;
}

/** Paints the root window, then runs `command` (default: an xterm at +0+0) as the session. */
export function renderStartWm(rootColor: string, command?: string): string {
  if (!/^#?[0-9A-Za-z]+$/.test(rootColor)) throw new Error(`bad root colour ${JSON.stringify(rootColor)}`);
  return `#!/bin/sh
# gatehouse test session: the session lasts while the last command runs.
xsetroot -solid '${rootColor}'
${command ?? 'exec xterm -geometry 80x24+0+0 -T gatehouse-xrdp-session'}
`;
}

/** A display number with no X server nor lock near it, far from Xvfb's low numbers. */
function pickDisplayOffset(): number {
  const taken = (n: number): boolean => existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`);
  const start = 200 + Math.floor(Math.random() * 600);
  for (let n = start; n < start + 200; n += 5) {
    if (![0, 1, 2, 3, 4].some((i) => taken(n + i))) return n;
  }
  return start;
}

export interface ConfigOptions {
  security: XrdpSecurity;
  backend: XrdpBackend;
  cryptLevel: XrdpCryptLevel;
  rootColor: string;
  sessionCommand: string | undefined;
  logLevel: string;
}

/** Writes etc/, run/ and log/ under `dir` for xrdp on `port` and sesman on `sesmanPort`. */
export async function writeConfigs(
  dir: string,
  port: number,
  sesmanPort: number,
  opts: ConfigOptions,
  user: TestUser,
): Promise<void> {
  const etc = join(dir, 'etc');
  const log = join(dir, 'log');
  await mkdir(etc, { mode: 0o755 });
  await mkdir(join(dir, 'run', 'sockdir'), { recursive: true });
  await chmod(join(dir, 'run'), 0o755);
  await chmod(join(dir, 'run', 'sockdir'), 0o1777);
  await mkdir(log, { mode: 0o755 });
  await chown(log, user.uid, user.uid); // Xorg (as the user) writes its log here
  for (const f of await readdir('/etc/xrdp')) {
    if (/^km-[0-9a-f]+\.ini$/.test(f) || f === 'xrdp_keyboard.ini' || f === 'reconnectwm.sh') {
      await copyFile(join('/etc/xrdp', f), join(etc, f));
    }
  }
  const security = opts.security;
  // xrdp will not start without an RSA key file, even for TLS only.
  await run('xrdp-keygen', ['xrdp', join(etc, 'rsakeys.ini')], {
    env: { ...process.env, PATH: SBIN_PATH },
  });
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=gatehouse-xrdp-test',
    '-keyout',
    join(etc, 'key.pem'),
    '-out',
    join(etc, 'cert.pem'),
  ]);
  await chmod(join(etc, 'key.pem'), 0o600);
  const level = opts.logLevel;
  await writeFile(
    join(etc, 'xrdp.ini'),
    renderXrdpIni({
      port,
      backend: opts.backend,
      security,
      cryptLevel: opts.cryptLevel,
      logFile: join(log, 'xrdp.log'),
      level,
    }),
  );
  await writeFile(
    join(etc, 'sesman.ini'),
    renderSesmanIni({
      sesmanPort,
      displayOffset: pickDisplayOffset(),
      logFile: join(log, 'sesman.log'),
      xorgLog: join(log, 'xorg.%s.log'),
      level,
    }),
  );
  const startwm = renderStartWm(opts.rootColor, opts.sessionCommand);
  await writeFile(join(etc, 'startwm.sh'), startwm, { mode: 0o755 });
}
