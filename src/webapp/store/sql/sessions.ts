/** Audit sessions (created by the first token redeem) and login (web) sessions in the SQL store. */
import type { SqlDriver } from '../../db/driver.js';
import type { SessionRecord, WebSession } from '../types.js';
import { withConflicts } from './common.js';

interface SessionRow {
  id: string;
  user_id: string;
  server_id: string;
  proxy_id: string;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
  bytes_up: number;
  bytes_down: number;
  client_address: string | null;
}

const SESSION_COLUMNS =
  'id, user_id, server_id, proxy_id, started_at, ended_at, end_reason, bytes_up, bytes_down, client_address';

/** The most rows listSessions returns, whatever the caller asks for. */
export const SESSION_LIST_MAX = 10_000;

function toSession(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    serverId: r.server_id,
    proxyId: r.proxy_id,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    endReason: r.end_reason,
    bytesUp: r.bytes_up,
    bytesDown: r.bytes_down,
    clientAddress: r.client_address,
  };
}

export async function getSession(db: SqlDriver, id: string): Promise<SessionRecord | null> {
  const row = await db.get<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`, [id]);
  return row === undefined ? null : toSession(row);
}

/** Newest first; `limit` is clamped to 0..SESSION_LIST_MAX. */
export async function listSessions(
  db: SqlDriver,
  opts: { activeOnly: boolean; limit: number },
): Promise<SessionRecord[]> {
  const limit = Number.isFinite(opts.limit)
    ? Math.min(Math.max(Math.trunc(opts.limit), 0), SESSION_LIST_MAX)
    : 0;
  const where = opts.activeOnly ? 'WHERE ended_at IS NULL' : '';
  const rows = await db.all<SessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM sessions ${where} ORDER BY started_at DESC, id LIMIT ?`,
    [limit],
  );
  return rows.map(toSession);
}

/** Ends a session still open; false when it is unknown or already ended. */
export async function endSession(
  db: SqlDriver,
  id: string,
  at: number,
  reason: string,
  bytesUp: number,
  bytesDown: number,
): Promise<boolean> {
  const r = await db.run(
    'UPDATE sessions SET ended_at = ?, end_reason = ?, bytes_up = ?, bytes_down = ? WHERE id = ? AND ended_at IS NULL',
    [at, reason, bytesUp, bytesDown, id],
  );
  return r.changes > 0;
}

export async function endOpenSessions(db: SqlDriver, at: number, reason: string): Promise<number> {
  return (
    await db.run('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL', [at, reason])
  ).changes;
}

interface WebSessionRow {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export async function createWebSession(db: SqlDriver, s: WebSession): Promise<void> {
  const refs = [{ field: 'userId', what: 'user', table: 'users', ids: [s.userId] }];
  await withConflicts(db, { unique: ['id', 'a login session with this id exists'], refs }, () =>
    db.run(
      'INSERT INTO web_sessions (id, user_id, csrf_token, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
      [s.id, s.userId, s.csrfToken, s.createdAt, s.expiresAt, s.lastSeenAt],
    ),
  );
}

/** The session as stored, expired or not: the caller compares expiresAt with its clock. */
export async function getWebSession(db: SqlDriver, id: string): Promise<WebSession | null> {
  const r = await db.get<WebSessionRow>(
    'SELECT id, user_id, csrf_token, created_at, expires_at, last_seen_at FROM web_sessions WHERE id = ?',
    [id],
  );
  if (r === undefined) return null;
  return {
    id: r.id,
    userId: r.user_id,
    csrfToken: r.csrf_token,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastSeenAt: r.last_seen_at,
  };
}

export async function touchWebSession(
  db: SqlDriver,
  id: string,
  lastSeenAt: number,
  expiresAt: number,
): Promise<void> {
  await db.run('UPDATE web_sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?', [
    lastSeenAt,
    expiresAt,
    id,
  ]);
}

/** Also removes the session's unredeemed tunnel tokens (cascade). */
export async function deleteWebSession(db: SqlDriver, id: string): Promise<void> {
  await db.run('DELETE FROM web_sessions WHERE id = ?', [id]);
}

export async function deleteWebSessionsOfUser(db: SqlDriver, userId: string): Promise<void> {
  await db.run('DELETE FROM web_sessions WHERE user_id = ?', [userId]);
}

/** Deletes sessions with expiresAt <= before. */
export async function deleteExpiredWebSessions(db: SqlDriver, before: number): Promise<number> {
  return (await db.run('DELETE FROM web_sessions WHERE expires_at <= ?', [before])).changes;
}
