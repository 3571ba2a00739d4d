/**
 * Helpers shared by the SQL store's entity modules: ids, JSON columns, IN lists, patches, and turning
 * constraint violations into StoreConflictError with the field the caller set.
 */
import { randomUUID } from 'node:crypto';
import { SqlConstraintError, type SqlExecutor, type SqlParam } from '../../db/driver.js';
import { DLP_KEYS, type DlpSettings, StoreConflictError } from '../types.js';

export function newId(): string {
  return randomUUID();
}

/** Distinct values, first occurrence order. */
export function distinct(ids: readonly string[] | undefined): string[] {
  return ids === undefined ? [] : [...new Set(ids)];
}

/** "?, ?, ?" for an IN list of n values (n >= 1). */
export function marks(n: number): string {
  return new Array<string>(n).fill('?').join(', ');
}

export function flag(value: number | boolean | null | undefined): boolean {
  return value === true || (typeof value === 'number' && value !== 0);
}

/** Only the known DLP keys with boolean values. */
export function cleanDlp(dlp: DlpSettings | undefined): DlpSettings {
  const out: DlpSettings = {};
  if (dlp === undefined || dlp === null) return out;
  for (const key of DLP_KEYS) {
    const v = dlp[key];
    if (typeof v === 'boolean') out[key] = v;
  }
  return out;
}

/** Only string values. */
export function cleanParams(params: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (params === undefined || params === null) return out;
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Parses a JSON object column; a damaged value fails with the row named instead of a bare SyntaxError. */
export function parseJsonObject(text: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${where} is not a JSON object`);
  return value as Record<string, unknown>;
}

export function parseDlp(text: string, where: string): DlpSettings {
  return cleanDlp(parseJsonObject(text, where) as DlpSettings);
}

export function parseParams(text: string, where: string): Record<string, string> {
  return cleanParams(parseJsonObject(text, where) as Record<string, string>);
}

/** SET clause and values for the defined keys of a patch; `columns` maps patch keys to columns and encoders. */
export function setClause<P extends object>(
  patch: P,
  columns: { [K in keyof P]?: [column: string, encode?: (v: NonNullable<P[K]>) => SqlParam] },
): { sql: string; values: SqlParam[] } {
  const parts: string[] = [];
  const values: SqlParam[] = [];
  for (const key of Object.keys(columns) as Array<keyof P>) {
    const spec = columns[key];
    const v = patch[key];
    if (spec === undefined || v === undefined) continue;
    const [column, encode] = spec;
    parts.push(`${column} = ?`);
    values.push(encode === undefined ? (v as SqlParam) : encode(v as NonNullable<P[typeof key]>));
  }
  return { sql: parts.join(', '), values };
}

/** A reference to rows of `table` that must exist, reported as `field` when one does not. */
export interface Ref {
  field: string;
  what: string;
  table: string;
  ids: readonly (string | null | undefined)[];
}

/** The first reference whose row is missing, as a StoreConflictError; undefined when all exist. */
export async function missingRef(
  db: SqlExecutor,
  refs: readonly Ref[],
): Promise<StoreConflictError | undefined> {
  for (const ref of refs) {
    const ids = distinct(ref.ids.filter((id): id is string => typeof id === 'string'));
    if (ids.length === 0) continue;
    const rows = await db.all<{ id: string }>(
      `SELECT id FROM ${ref.table} WHERE id IN (${marks(ids.length)})`,
      ids,
    );
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.find((id) => !found.has(id));
    if (missing !== undefined) return new StoreConflictError(`unknown ${ref.what}: ${missing}`, ref.field);
  }
  return undefined;
}

export interface ConflictFields {
  /** The field a unique violation is about, and the message. */
  unique?: [field: string, message: string];
  /** References to check when a foreign key fails (run after the failed statement's transaction ended). */
  refs?: readonly Ref[];
}

/**
 * Runs `fn`; a unique violation becomes StoreConflictError(unique), a foreign-key violation the first
 * missing reference among `refs`. Other errors pass through.
 */
export async function withConflicts<T>(
  db: SqlExecutor,
  fields: ConflictFields,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof SqlConstraintError)) throw err;
    if (err.kind === 'unique' && fields.unique !== undefined) {
      throw new StoreConflictError(fields.unique[1], fields.unique[0]);
    }
    if (err.kind === 'foreign-key' && fields.refs !== undefined) {
      const missing = await missingRef(db, fields.refs);
      const first = fields.refs[0];
      throw (
        missing ??
        new StoreConflictError(
          `a referenced ${first?.what ?? 'record'} no longer exists`,
          first?.field ?? 'id',
        )
      );
    }
    throw err;
  }
}
