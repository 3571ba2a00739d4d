/**
 * Schema migrations: an ordered list applied at startup in one transaction and recorded in
 * `schema_migrations`. Applying is idempotent; on PostgreSQL a transaction-scoped advisory lock makes
 * webapps starting at the same time take turns (the second finds everything applied).
 */
import type { Dialect, SqlDriver } from './driver.js';

export interface Migration {
  /** Sorts after every earlier migration's id, e.g. "0001-initial". Never renamed once released. */
  id: string;
  /** The script; per dialect only where the two must differ. */
  sql: string | Record<Dialect, string>;
}

/** The advisory lock key taken while migrating (an arbitrary constant: "gatehouse" in ASCII, truncated). */
export const MIGRATION_LOCK_KEY = 0x6761746568n;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id TEXT PRIMARY KEY,
  applied_at BIGINT NOT NULL
)`;

export function migrationSql(m: Migration, dialect: Dialect): string {
  return typeof m.sql === 'string' ? m.sql : m.sql[dialect];
}

function checkOrder(migrations: readonly Migration[]): void {
  for (let i = 1; i < migrations.length; i++) {
    const prev = migrations[i - 1] as Migration;
    const cur = migrations[i] as Migration;
    if (!(prev.id < cur.id)) throw new Error(`migration ids out of order: ${prev.id} before ${cur.id}`);
  }
}

/**
 * Applies the migrations not yet recorded, in order, and returns their ids. Fails without changing
 * anything when the database records a migration this list does not know (a newer Gatehouse made it).
 */
export async function applyMigrations(
  db: SqlDriver,
  migrations: readonly Migration[],
  now: () => number = Date.now,
): Promise<string[]> {
  checkOrder(migrations);
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres')
      await tx.get(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}) AS locked`);
    await tx.exec(CREATE_TABLE);
    const rows = await tx.all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    const applied = new Set(rows.map((r) => r.id));
    const known = new Set(migrations.map((m) => m.id));
    const unknown = rows.find((r) => !known.has(r.id));
    if (unknown !== undefined) {
      throw new Error(
        `the database has migration ${unknown.id}, which this version of Gatehouse does not know: ` +
          'it was made by a newer version; run that version or restore a backup',
      );
    }
    const done: string[] = [];
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      try {
        await tx.exec(migrationSql(m, tx.dialect));
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        throw new Error(`migration ${m.id} failed: ${text}`, { cause: err });
      }
      await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, now()]);
      done.push(m.id);
    }
    return done;
  });
}
