/**
 * A tiny async SQL driver over SQLite (better-sqlite3) and PostgreSQL (pg). SQL is written once with `?`
 * placeholders and portable types; the PostgreSQL driver rewrites the placeholders to $1..$n. Constraint
 * violations of either database come out as one `SqlConstraintError` so callers can map them without
 * knowing the dialect.
 */

export type Dialect = 'sqlite' | 'postgres';

/** A bound parameter. Booleans are sent as 1/0 (the schema stores flags as INTEGER). */
export type SqlParam = string | number | bigint | boolean | null | Buffer;

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

/** What a transaction body gets: the same queries, on the transaction's connection. */
export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlParam[]): Promise<RunResult>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDriver extends SqlExecutor {
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. On SQLite other
   * queries of this process wait until it ends (one connection); on PostgreSQL it holds one pooled
   * connection. Do not call the driver itself from inside `fn` on SQLite: it would wait for `fn` to end.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type ConstraintKind = 'unique' | 'foreign-key' | 'check' | 'not-null';

/**
 * A constraint violation, whichever database raised it. `detail` names what the database said: for SQLite
 * "table.column[, table.column]" (unique, not-null) or nothing (foreign keys); for PostgreSQL the
 * constraint name.
 */
export class SqlConstraintError extends Error {
  constructor(
    message: string,
    readonly kind: ConstraintKind,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SqlConstraintError';
  }
}

/** Parameters as the drivers bind them (booleans become 1/0). */
export function bindable(params: readonly SqlParam[]): Array<string | number | bigint | null | Buffer> {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}
