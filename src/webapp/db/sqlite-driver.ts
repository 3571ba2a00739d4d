/**
 * SqlDriver over better-sqlite3: one connection in WAL mode with foreign keys on. better-sqlite3 is
 * synchronous, so a query runs to completion when called; only transactions, whose bodies await, need
 * care: while one is open every other query of this driver waits for it (they share the connection).
 */
import Database from 'better-sqlite3';
import {
  bindable,
  type ConstraintKind,
  type RunResult,
  SqlConstraintError,
  type SqlDriver,
  type SqlExecutor,
  type SqlParam,
} from './driver.js';

/** How long a write waits for another process's lock on the file before failing (ms). */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** Prepared statements kept; SQL comes from the code, so this is only a guard against unbounded growth. */
const STATEMENT_CACHE_LIMIT = 500;

const CONSTRAINT_CODES: Record<string, ConstraintKind> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign-key',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CONSTRAINT_NOTNULL: 'not-null',
};

/** Other SQLITE_CONSTRAINT* codes by message: ON DELETE RESTRICT fails with SQLITE_CONSTRAINT_TRIGGER. */
const CONSTRAINT_MESSAGES: Array<[RegExp, ConstraintKind]> = [
  [/^FOREIGN KEY constraint failed/, 'foreign-key'],
  [/^UNIQUE constraint failed/, 'unique'],
  [/^CHECK constraint failed/, 'check'],
  [/^NOT NULL constraint failed/, 'not-null'],
];

/** A constraint error of SQLite as SqlConstraintError; anything else unchanged. */
export function mapSqliteError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_CONSTRAINT') || !(err instanceof Error))
    return err;
  const kind = CONSTRAINT_CODES[code] ?? CONSTRAINT_MESSAGES.find(([re]) => re.test(err.message))?.[1];
  if (kind === undefined) return err;
  // "UNIQUE constraint failed: users.username" -> "users.username"; foreign keys name nothing.
  const colon = err.message.indexOf(': ');
  const detail = colon >= 0 ? err.message.slice(colon + 2) : '';
  return new SqlConstraintError(err.message, kind, detail, { cause: err });
}

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  /** Set while a transaction is open; resolves when it ends. */
  private lock: Promise<void> | null = null;
  private closed = false;

  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating if needed) the database file and sets WAL, foreign keys, synchronous and busy timeout. */
  static open(file: string): SqliteDriver {
    const db = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      // Reading the schema proves the file is a database (a text file fails here, not at first use).
      db.prepare('SELECT count(*) AS n FROM sqlite_master').get();
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteDriver(db);
  }

  all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.whenIdle(() => this.allNow<T>(sql, params));
  }

  get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return this.whenIdle(() => this.getNow<T>(sql, params));
  }

  run(sql: string, params: readonly SqlParam[] = []): Promise<RunResult> {
    return this.whenIdle(() => this.runNow(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.whenIdle(() => this.execNow(sql));
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // The last check of `lock` and taking it happen in one synchronous step: no other caller can slip in.
    while (this.lock !== null) await this.lock;
    this.checkOpen();
    let release = (): void => {};
    this.lock = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tx = new SqliteTransaction(this);
    try {
      // IMMEDIATE takes the write lock at once: no upgrade deadlock with another process's transaction.
      this.execNow('BEGIN IMMEDIATE');
      try {
        const result = await fn(tx);
        this.execNow('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      tx.active = false;
      this.lock = null;
      release();
    }
  }

  async close(): Promise<void> {
    while (this.lock !== null) await this.lock;
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the SQLite database is closed');
  }

  /**
   * Runs `fn` once no transaction is open, in the same synchronous step as the last check, so it can never
   * land inside another caller's transaction. Without a transaction open it runs at once.
   */
  private async whenIdle<T>(fn: () => T): Promise<T> {
    while (this.lock !== null) await this.lock;
    this.checkOpen();
    return fn();
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** @internal queries on the connection as it is (inside or outside a transaction). */
  allNow<T>(sql: string, params: readonly SqlParam[]): T[] {
    try {
      return this.statement(sql).all(...bindable(params)) as T[];
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  /** @internal */
  getNow<T>(sql: string, params: readonly SqlParam[]): T | undefined {
    try {
      return this.statement(sql).get(...bindable(params)) as T | undefined;
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  /** @internal */
  runNow(sql: string, params: readonly SqlParam[]): RunResult {
    try {
      return { changes: this.statement(sql).run(...bindable(params)).changes };
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  /** @internal */
  execNow(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (err) {
      throw mapSqliteError(err);
    }
  }
}

/** The executor a transaction body gets: runs straight on the connection, valid until the body ends. */
class SqliteTransaction implements SqlExecutor {
  readonly dialect = 'sqlite' as const;
  active = true;
  constructor(private readonly driver: SqliteDriver) {}

  private check(): void {
    if (!this.active) throw new Error('transaction used after it ended');
  }
  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    this.check();
    return this.driver.allNow<T>(sql, params);
  }
  async get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    this.check();
    return this.driver.getNow<T>(sql, params);
  }
  async run(sql: string, params: readonly SqlParam[] = []): Promise<RunResult> {
    this.check();
    return this.driver.runNow(sql, params);
  }
  async exec(sql: string): Promise<void> {
    this.check();
    this.driver.execNow(sql);
  }
}
