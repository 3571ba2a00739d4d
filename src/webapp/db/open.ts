/**
 * Chooses and opens the database from `webapp.database`: '' = SQLite at <dataDir>/gatehouse.db,
 * postgres:// or postgresql:// = PostgreSQL, anything else = a SQLite file path. Errors name the database,
 * with any password in a URL replaced by ***.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { SqlDriver } from './driver.js';
import { PgDriver, type PgDriverOptions } from './pg-driver.js';
import { SqliteDriver } from './sqlite-driver.js';

export const DEFAULT_SQLITE_FILE = 'gatehouse.db';

export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/** The URL with its password (if any) replaced by ***, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    // Not parseable: hide whatever sits between "user:" and "@".
    return url.replace(/(\/\/[^:/@]*):[^@]*@/, '$1:***@');
  }
}

/** Where the SQLite database of a `webapp.database` value lives (absolute path), or null for PostgreSQL. */
export function sqlitePath(database: string, dataDir: string): string | null {
  if (isPostgresUrl(database)) return null;
  if (database === ':memory:') return database;
  return resolve(database === '' ? join(dataDir, DEFAULT_SQLITE_FILE) : database);
}

/** "SQLite database /abs/path" or "PostgreSQL database postgres://user:***@host/db", for messages. */
export function describeDatabase(database: string, dataDir: string): string {
  const file = sqlitePath(database, dataDir);
  return file === null ? `PostgreSQL database ${redactDatabaseUrl(database)}` : `SQLite database ${file}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface OpenDriverOptions {
  /** PostgreSQL pool settings. */
  pg?: PgDriverOptions;
}

export async function openDriver(
  database: string,
  dataDir: string,
  opts: OpenDriverOptions = {},
): Promise<SqlDriver> {
  if (isPostgresUrl(database)) return openPostgres(database, opts.pg);
  const file = sqlitePath(database, dataDir) as string;
  try {
    if (file === ':memory:') return SqliteDriver.open(file);
    // The directory holds password hashes and sealed credentials: only the owner may enter it.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const created = !existsSync(file);
    const driver = SqliteDriver.open(file);
    // SQLite gives its -wal and -shm files the permissions of the database file.
    if (created) chmodSync(file, 0o600);
    return driver;
  } catch (err) {
    throw new Error(`cannot open SQLite database ${file}: ${errorText(err)}`, { cause: err });
  }
}

async function openPostgres(url: string, opts: PgDriverOptions | undefined): Promise<SqlDriver> {
  const shown = redactDatabaseUrl(url);
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    throw new Error(`cannot open PostgreSQL database ${shown}: not a valid URL`);
  }
  const driver = PgDriver.create(url, opts);
  try {
    await driver.get('SELECT 1 AS one');
    return driver;
  } catch (err) {
    await driver.close().catch(() => {});
    let text = errorText(err);
    if (password !== '') text = text.split(password).join('***');
    throw new Error(`cannot open PostgreSQL database ${shown}: ${text}`, { cause: err });
  }
}
