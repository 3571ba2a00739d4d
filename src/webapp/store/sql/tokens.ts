/**
 * One-time access tokens. The first redeem is a single conditional UPDATE (not yet redeemed, not expired,
 * bound to this proxy), so of any number of concurrent redeems, on either database, exactly one wins; the
 * winner creates the audit session in the same transaction.
 */
import type { SqlDriver, SqlExecutor } from '../../db/driver.js';
import type { AccessToken, RedeemOutcome, TokenKind } from '../types.js';
import { newId, withConflicts } from './common.js';

interface TokenRow {
  hash: string;
  kind: TokenKind;
  user_id: string;
  server_id: string;
  proxy_id: string;
  web_session_id: string | null;
  created_at: number;
  expires_at: number;
  redeemed_at: number | null;
  session_id: string | null;
}

const COLUMNS =
  'hash, kind, user_id, server_id, proxy_id, web_session_id, created_at, expires_at, redeemed_at, session_id';

function toToken(r: TokenRow): AccessToken {
  return {
    hash: r.hash,
    kind: r.kind,
    userId: r.user_id,
    serverId: r.server_id,
    proxyId: r.proxy_id,
    webSessionId: r.web_session_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    redeemedAt: r.redeemed_at,
    sessionId: r.session_id,
  };
}

export async function createToken(
  db: SqlDriver,
  t: Omit<AccessToken, 'redeemedAt' | 'sessionId'>,
): Promise<void> {
  const refs = [
    { field: 'userId', what: 'user', table: 'users', ids: [t.userId] },
    { field: 'serverId', what: 'server', table: 'servers', ids: [t.serverId] },
    { field: 'proxyId', what: 'proxy', table: 'proxies', ids: [t.proxyId] },
    { field: 'webSessionId', what: 'login session', table: 'web_sessions', ids: [t.webSessionId] },
  ];
  await withConflicts(db, { unique: ['hash', 'a token with this hash exists'], refs }, () =>
    db.run(
      `INSERT INTO access_tokens (hash, kind, user_id, server_id, proxy_id, web_session_id, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [t.hash, t.kind, t.userId, t.serverId, t.proxyId, t.webSessionId, t.createdAt, t.expiresAt],
    ),
  );
}

export async function getToken(db: SqlDriver, hash: string): Promise<AccessToken | null> {
  const row = await db.get<TokenRow>(`SELECT ${COLUMNS} FROM access_tokens WHERE hash = ?`, [hash]);
  return row === undefined ? null : toToken(row);
}

/** Why a token that the first-redeem UPDATE did not take cannot be redeemed, or the replay it allows. */
async function refusedOrReplay(
  tx: SqlExecutor,
  hash: string,
  proxyId: string,
  now: number,
  replayWindowMs: number,
): Promise<RedeemOutcome> {
  const row = await tx.get<TokenRow>(`SELECT ${COLUMNS} FROM access_tokens WHERE hash = ?`, [hash]);
  if (row === undefined) return { ok: false, reason: 'unknown' };
  if (row.proxy_id !== proxyId) return { ok: false, reason: 'wrong-proxy' };
  if (row.redeemed_at !== null) {
    if (row.session_id !== null && now - row.redeemed_at <= replayWindowMs) {
      return { ok: true, token: toToken(row), sessionId: row.session_id, replay: true };
    }
    return { ok: false, reason: 'used' };
  }
  return { ok: false, reason: 'expired' };
}

export function redeemToken(
  db: SqlDriver,
  hash: string,
  proxyId: string,
  now: number,
  replayWindowMs: number,
  clientAddress: string | null,
): Promise<RedeemOutcome> {
  return db.transaction(async (tx) => {
    const sessionId = newId();
    const row = await tx.get<TokenRow>(
      `UPDATE access_tokens SET redeemed_at = ?, session_id = ?
       WHERE hash = ? AND redeemed_at IS NULL AND expires_at > ? AND proxy_id = ?
       RETURNING ${COLUMNS}`,
      [now, sessionId, hash, now, proxyId],
    );
    if (row === undefined) return refusedOrReplay(tx, hash, proxyId, now, replayWindowMs);
    await tx.run(
      `INSERT INTO sessions (id, user_id, server_id, proxy_id, started_at, bytes_up, bytes_down, client_address)
       VALUES (?, ?, ?, ?, ?, 0, 0, ?)`,
      [sessionId, row.user_id, row.server_id, row.proxy_id, now, clientAddress],
    );
    return { ok: true, token: toToken(row), sessionId, replay: false };
  });
}

/**
 * Deletes tokens with expiresAt <= before. Pass `now - replayWindowMs` (or earlier) so a token redeemed
 * just before it expired can still be replayed within the window.
 */
export async function deleteExpiredTokens(db: SqlDriver, before: number): Promise<number> {
  return (await db.run('DELETE FROM access_tokens WHERE expires_at <= ?', [before])).changes;
}
