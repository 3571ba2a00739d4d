// Throwaway system accounts for servers that log in through PAM (xrdp's sesman; freerdp-shadow-cli with +auth):
// a random name, a random password (chpasswd), a home directory of the caller's choosing. remove() ends every
// process the account still runs (by pid), then deletes the account, its group and its home (userdel -r).
// An 'exit' hook removes accounts whose test process ends before it could (needs root, like useradd).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { pollUntil, run, sleep } from './processes.js';

export interface TestUser {
  name: string;
  password: string;
  uid: number;
  home: string;
  /** Kills the account's processes and deletes it with its home. Idempotent. */
  remove(): Promise<void>;
}

export interface TestUserOptions {
  /** Home directory to create (its parent must be traversable by the user); default /home/<name>. */
  home?: string;
  /** Name prefix, default 'gh' (then 8 hex digits). */
  prefix?: string;
}

const liveUsers = new Map<string, number>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const [name, uid] of liveUsers) {
      for (const pid of pidsOfUid(uid)) signal(pid, 'SIGKILL');
      spawnSync('userdel', ['-r', '-f', name], { stdio: 'ignore', timeout: 5000 });
    }
    liveUsers.clear();
  });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/** Live (non-zombie) processes whose real uid is `uid`. */
export function pidsOfUid(uid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'latin1');
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      const realUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (realUid === uid && state !== 'Z' && state !== 'X') out.push(Number(name));
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/** Runs an account tool, retrying while another process holds the passwd/group lock. */
async function accountTool(cmd: string, args: string[], input?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const r = await run(cmd, args, {
      check: false,
      timeoutMs: 15_000,
      ...(input === undefined ? {} : { input }),
    });
    if (r.code === 0) return;
    const busy = /lock|try again/i.test(r.stderr);
    if (!busy || attempt >= 10)
      throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
    await sleep(100 * attempt);
  }
}

/** Creates an account with a random name and password. Needs root. */
export async function createTestUser(opts: TestUserOptions = {}): Promise<TestUser> {
  installExitHook();
  const name = `${opts.prefix ?? 'gh'}${randomBytes(4).toString('hex')}`;
  const password = `Gh-${randomBytes(9).toString('base64url')}`;
  const home = opts.home ?? `/home/${name}`;
  await accountTool('useradd', ['-m', '-d', home, '-s', '/bin/sh', '-U', name]);
  liveUsers.set(name, -1);
  let uid = -1;
  let removing: Promise<void> | undefined;
  const remove = (): Promise<void> => {
    removing ??= removeUser(name, uid);
    return removing;
  };
  try {
    const id = await run('id', ['-u', name]);
    uid = Number(id.stdout.toString().trim());
    liveUsers.set(name, uid);
    await accountTool('chpasswd', [], `${name}:${password}\n`);
  } catch (err) {
    await remove();
    throw err;
  }
  return { name, password, uid, home, remove };
}

async function removeUser(name: string, uid: number): Promise<void> {
  if (uid >= 0) {
    // Processes of the account stop userdel (and would outlive the test): end them by pid.
    await pollUntil(
      `the processes of ${name} to end`,
      () => {
        const pids = pidsOfUid(uid);
        for (const pid of pids) signal(pid, 'SIGKILL');
        return pids.length === 0 ? true : undefined;
      },
      5000,
      50,
    );
  }
  await accountTool('userdel', ['-r', '-f', name]).catch((err: Error) => {
    // "mail spool not found" and similar warnings exit 12 after the account is gone.
    if (!/exit 12\b/.test(err.message)) throw err;
  });
  liveUsers.delete(name);
}
