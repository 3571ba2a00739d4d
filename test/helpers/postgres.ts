// A throwaway PostgreSQL server for tests, from the distribution's binaries (/usr/lib/postgresql/*/bin):
// initdb into a fresh temp dir, postgres on a free loopback port (socket in the same dir), as user
// `postgres` via runuser when we are root (postgres refuses to run as root). fsync is off: the data is
// thrown away. stop() ends it and removes the dir; the e2e process helpers kill it and remove the dir if the
// test process exits first.
//
// forEachDatabase() runs one suite body on SQLite (a temp file) and on PostgreSQL (a fresh server per
// suite). Set GATEHOUSE_SKIP_POSTGRES=1 to skip the PostgreSQL half where no server binaries exist.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { freePort, LOOPBACK } from '../e2e/helpers/free-port.js';
import {
  ProcessGroup,
  registerTempDir,
  removeTempDir,
  run,
  sleep,
  within,
} from '../e2e/helpers/processes.js';

export const PG_ROOT = '/usr/lib/postgresql';
const START_TIMEOUT_MS = 30_000;

export interface PostgresServer {
  /** URL of an empty database made at start (user postgres, with a password). */
  url: string;
  port: number;
  /** Makes another empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Ends the server and removes its directory; idempotent. */
  stop(): Promise<void>;
}

/** The newest PostgreSQL bin directory with initdb and postgres, or null when none is installed. */
export function postgresBinDir(): string | null {
  if (!existsSync(PG_ROOT)) return null;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(PG_ROOT, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  return null;
}

/** uid and gid of the `postgres` account, from /etc/passwd. */
function postgresAccount(): { uid: number; gid: number } {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === 'postgres' && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error('no postgres account in /etc/passwd: install the postgresql package');
}

async function canQuery(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await within(
      1000,
      client.end().catch(() => {}),
    );
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await within(
      2000,
      client.end().catch(() => {}),
    );
  }
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === null) {
    throw new Error(
      `no PostgreSQL server binaries under ${PG_ROOT}/*/bin: install the postgresql package ` +
        '(scripts/install-system-deps.sh test), or set GATEHOUSE_SKIP_POSTGRES=1',
    );
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'));
  registerTempDir(dir);
  const asRoot = process.getuid?.() === 0;
  // As root, run the server programs as postgres (it refuses root), owning the directory they write.
  const cmd = (program: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
  let server: ProcessGroup | undefined;
  try {
    const password = randomBytes(12).toString('hex');
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (asRoot) {
      const { uid, gid } = postgresAccount();
      chownSync(dir, uid, gid);
      chownSync(pwfile, uid, gid);
    }
    const data = join(dir, 'data');
    await run(
      ...cmd('initdb', [
        '-D',
        data,
        '-U',
        'postgres',
        `--pwfile=${pwfile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]),
      { timeoutMs: Math.max(1000, deadline - Date.now()) },
    );
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const group = new ProcessGroup(
        ...cmd('postgres', [
          '-D',
          data,
          '-k',
          dir,
          '-p',
          String(port),
          '-h',
          LOOPBACK,
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
        ]),
      );
      server = group;
      const base = `postgres://postgres:${password}@${LOOPBACK}:${port}`;
      let ready = false;
      while (!ready && !group.hasExited && Date.now() < deadline) {
        ready = await canQuery(`${base}/postgres`);
        if (!ready) await sleep(50);
      }
      if (ready) return makeServer(base, port, dir, group);
      await group.stop(1000);
      const out = group.output();
      // Another process took the port between freePort() and the bind: try another.
      if (attempt < 3 && /could not bind|address already in use/i.test(out) && Date.now() < deadline)
        continue;
      throw new Error(
        `PostgreSQL did not accept connections on port ${port} within ${START_TIMEOUT_MS} ms: ${out.trim().slice(-2000)}`,
      );
    }
  } catch (err) {
    await server?.stop(1000);
    await removeTempDir(dir);
    throw err;
  }
}

async function makeServer(
  base: string,
  port: number,
  dir: string,
  group: ProcessGroup,
): Promise<PostgresServer> {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Immediate shutdown of the postmaster (its pid is the first line of postmaster.pid); runuser exits
      // with it. The group stop is the backstop (SIGTERM, then SIGKILL).
      try {
        const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGQUIT');
      } catch {
        // Not running (or the pid file is gone): the group stop below ends whatever is left.
      }
      await within(5000, group.exited);
      await group.stop(1000);
      await removeTempDir(dir);
    })();
    return stopping;
  };
  const createDatabase = async (name = `gh_${randomBytes(6).toString('hex')}`): Promise<string> => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
    await adminQuery(`${base}/postgres`, `CREATE DATABASE ${name}`);
    return `${base}/${name}`;
  };
  try {
    const url = await createDatabase('gatehouse_test');
    return { url, port, createDatabase, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The database one forEachDatabase suite runs on; fields are set once the suite's `before` has run. */
export interface TestDatabase {
  readonly dialect: 'sqlite' | 'postgres';
  /** A `webapp.database` value for the suite's database. */
  readonly database: string;
  /** A temp directory for the suite (data dir), removed after it. */
  readonly dataDir: string;
  /** Another empty database (a new SQLite file, or a new database on the suite's server). */
  fresh(): Promise<string>;
}

class SuiteDatabase implements TestDatabase {
  database = '';
  dataDir = '';
  private pgServer: PostgresServer | undefined;
  private count = 0;
  constructor(readonly dialect: 'sqlite' | 'postgres') {}

  async setUp(): Promise<void> {
    this.dataDir = mkdtempSync(join(tmpdir(), `gatehouse-db-${this.dialect}-`));
    registerTempDir(this.dataDir);
    if (this.dialect === 'postgres') {
      this.pgServer = await startPostgres();
      this.database = this.pgServer.url;
    } else {
      this.database = join(this.dataDir, 'test.db');
    }
  }

  async fresh(): Promise<string> {
    this.count++;
    if (this.pgServer !== undefined) return this.pgServer.createDatabase();
    return join(this.dataDir, `fresh-${this.count}.db`);
  }

  async tearDown(): Promise<void> {
    await this.pgServer?.stop();
    if (this.dataDir !== '') await removeTempDir(this.dataDir);
  }
}

export interface ForEachDatabaseOptions {
  /** Timeout of each suite (ms), default 60 s. */
  timeout?: number;
}

/**
 * Registers `body` twice, as suites "<title> [sqlite]" and "<title> [postgres]". `body` runs while the
 * suite is being defined (register before/it/after there); read `db.database` in hooks and tests, not in
 * `body` itself. The database exists before the body's own `before` hooks run and is removed after its
 * `after` hooks.
 */
export function forEachDatabase(
  title: string,
  body: (db: TestDatabase) => void,
  opts: ForEachDatabaseOptions = {},
): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const skip = dialect === 'postgres' && process.env.GATEHOUSE_SKIP_POSTGRES === '1';
    describe(`${title} [${dialect}]`, { timeout: opts.timeout ?? 60_000, skip }, () => {
      const db = new SuiteDatabase(dialect);
      before(() => db.setUp(), { timeout: START_TIMEOUT_MS + 10_000 });
      body(db);
      after(() => db.tearDown(), { timeout: 15_000 });
    });
  }
}
