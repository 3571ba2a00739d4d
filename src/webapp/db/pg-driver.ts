/**
 * SqlDriver over a pg Pool. `?` placeholders are rewritten to $1..$n (outside quotes and comments), int8
 * columns (BIGINT, count(*)) come back as numbers, and constraint violations become SqlConstraintError.
 */
import pg from 'pg';
import {
  bindable,
  type ConstraintKind,
  type RunResult,
  SqlConstraintError,
  type SqlDriver,
  type SqlExecutor,
  type SqlParam,
} from './driver.js';

const INT8_OID = 20;
const REWRITE_CACHE_LIMIT = 1000;

const CONSTRAINT_CODES: Record<string, ConstraintKind> = {
  '23505': 'unique',
  '23503': 'foreign-key',
  '23514': 'check',
  '23502': 'not-null',
};

/** A constraint error of PostgreSQL as SqlConstraintError; anything else unchanged. */
export function mapPgError(err: unknown): unknown {
  if (!(err instanceof pg.DatabaseError)) return err;
  const kind = err.code === undefined ? undefined : CONSTRAINT_CODES[err.code];
  if (kind === undefined) return err;
  const detail =
    err.constraint ??
    (err.table !== undefined && err.column !== undefined ? `${err.table}.${err.column}` : '');
  return new SqlConstraintError(err.message, kind, detail, { cause: err });
}

/** `?` placeholders to $1..$n, leaving quoted strings, quoted identifiers and comments alone. */
export function toPgPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      n++;
      out += `$${n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Each distinct SQL text becomes a named prepared statement (pg prepares it once per connection), which
 * saves the server a parse and plan per query. Names are never reused, even after the cache is cleared.
 */
const prepared = new Map<string, { name: string; text: string }>();
let statementCount = 0;
function preparedQuery(sql: string): { name: string; text: string } {
  let q = prepared.get(sql);
  if (q === undefined) {
    if (prepared.size >= REWRITE_CACHE_LIMIT) prepared.clear();
    statementCount++;
    q = { name: `gh${statementCount}`, text: toPgPlaceholders(sql) };
    prepared.set(sql, q);
  }
  return q;
}

/** int8 as a JavaScript number (times in ms and byte counts stay far below 2^53); other types as pg does. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

interface Queryable {
  query(text: string): Promise<pg.QueryResult>;
  query(config: pg.QueryConfig): Promise<pg.QueryResult>;
}

async function query(on: Queryable, sql: string, params: readonly SqlParam[]): Promise<pg.QueryResult> {
  try {
    return await on.query({ ...preparedQuery(sql), values: bindable(params) });
  } catch (err) {
    throw mapPgError(err);
  }
}

async function execScript(on: Queryable, sql: string): Promise<void> {
  try {
    // No parameters: the simple query protocol, which runs several statements.
    await on.query(sql);
  } catch (err) {
    throw mapPgError(err);
  }
}

class PgExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;
  constructor(protected readonly on: Queryable) {}

  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return (await query(this.on, sql, params)).rows as T[];
  }
  async get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return (await query(this.on, sql, params)).rows[0] as T | undefined;
  }
  async run(sql: string, params: readonly SqlParam[] = []): Promise<RunResult> {
    return { changes: (await query(this.on, sql, params)).rowCount ?? 0 };
  }
  async exec(sql: string): Promise<void> {
    await execScript(this.on, sql);
  }
}

export interface PgDriverOptions {
  /** Pooled connections (default 10). */
  max?: number;
  /** Deadline for getting a connection (ms, default 10 s). */
  connectionTimeoutMillis?: number;
}

export class PgDriver extends PgExecutor implements SqlDriver {
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {
    super(pool);
  }

  /** A pool for the URL; nothing is connected until the first query (openDriver checks with one). */
  static create(url: string, opts: PgDriverOptions = {}): PgDriver {
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 10_000,
      idleTimeoutMillis: 30_000,
      types,
    });
    // An idle connection that breaks (server restart) is dropped by the pool; the next query reconnects or
    // fails with its own error. Without a listener the 'error' event would crash the process.
    pool.on('error', () => {});
    return new PgDriver(pool);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(new PgExecutor(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        throw mapPgError(err);
      }
    } finally {
      // A connection whose rollback failed is in an unknown state: destroy it instead of pooling it.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
