/**
 * Servers, their grants (users and groups) and their sealed credentials in the SQL store. Credentials are
 * stored as a SecretBox text with the server id as AAD: a value copied into another server's row does
 * not open.
 */
import type { SqlDriver, SqlExecutor, SqlParam } from '../../db/driver.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { NewServer, Server, ServerCredentials, ServerPatch, ServerProtocol } from '../types.js';
import {
  cleanDlp,
  cleanParams,
  distinct,
  flag,
  newId,
  parseDlp,
  parseJsonObject,
  parseParams,
  type Ref,
  setClause,
  withConflicts,
} from './common.js';

interface ServerRow {
  id: string;
  name: string;
  protocol: ServerProtocol;
  host: string;
  port: number;
  zone_id: string;
  params: string;
  dlp: string;
  has_credentials: number;
  created_at: number;
}

const COLUMNS =
  's.id, s.name, s.protocol, s.host, s.port, s.zone_id, s.params, s.dlp, ' +
  'CASE WHEN s.credentials IS NULL THEN 0 ELSE 1 END AS has_credentials, s.created_at';

/** Server ids the user may use: granted directly or through a group; none when the user is disabled. */
const GRANTED_TO_USER = `SELECT su.server_id FROM server_users su JOIN users u ON u.id = su.user_id
    WHERE su.user_id = ? AND u.disabled = 0
  UNION
  SELECT sg.server_id FROM server_groups sg
    JOIN group_members gm ON gm.group_id = sg.group_id
    JOIN users u ON u.id = gm.user_id
    WHERE gm.user_id = ? AND u.disabled = 0`;

const nameTaken = (name: string): [string, string] => ['name', `a server named "${name}" exists`];
const refs = (
  zoneId: string | undefined,
  userIds: string[] | undefined,
  groupIds: string[] | undefined,
): Ref[] => [
  { field: 'zoneId', what: 'zone', table: 'zones', ids: [zoneId] },
  { field: 'userIds', what: 'user', table: 'users', ids: userIds ?? [] },
  { field: 'groupIds', what: 'group', table: 'groups', ids: groupIds ?? [] },
];

/** The credentials with only non-empty string fields; null when none is left. */
function cleanCredentials(c: ServerCredentials | null | undefined): ServerCredentials | null {
  if (c === null || c === undefined) return null;
  const out: ServerCredentials = {};
  for (const key of ['username', 'password', 'domain'] as const) {
    const v = c[key];
    if (typeof v === 'string' && v !== '') out[key] = v;
  }
  return Object.keys(out).length === 0 ? null : out;
}

function sealCredentials(
  box: SecretBox,
  serverId: string,
  c: ServerCredentials | null | undefined,
): string | null {
  const clean = cleanCredentials(c);
  return clean === null ? null : box.seal(JSON.stringify(clean), serverId);
}

type Grants = Map<string, { userIds: string[]; groupIds: string[] }>;

/** Grants of the servers `where` selects (`where` filters the alias s of servers). */
async function grantsOf(db: SqlExecutor, where: string, params: readonly SqlParam[]): Promise<Grants> {
  const users = await db.all<{ server_id: string; id: string }>(
    `SELECT x.server_id, x.user_id AS id FROM server_users x JOIN servers s ON s.id = x.server_id WHERE ${where} ORDER BY x.user_id`,
    params,
  );
  const groups = await db.all<{ server_id: string; id: string }>(
    `SELECT x.server_id, x.group_id AS id FROM server_groups x JOIN servers s ON s.id = x.server_id WHERE ${where} ORDER BY x.group_id`,
    params,
  );
  const out: Grants = new Map();
  const entry = (id: string) => {
    let e = out.get(id);
    if (e === undefined) {
      e = { userIds: [], groupIds: [] };
      out.set(id, e);
    }
    return e;
  };
  for (const r of users) entry(r.server_id).userIds.push(r.id);
  for (const r of groups) entry(r.server_id).groupIds.push(r.id);
  return out;
}

function toServer(r: ServerRow, grants: Grants): Server {
  const g = grants.get(r.id);
  return {
    id: r.id,
    name: r.name,
    protocol: r.protocol,
    host: r.host,
    port: r.port,
    zoneId: r.zone_id,
    params: parseParams(r.params, `servers.params of ${r.id}`),
    dlp: parseDlp(r.dlp, `servers.dlp of ${r.id}`),
    userIds: g?.userIds ?? [],
    groupIds: g?.groupIds ?? [],
    hasCredentials: flag(r.has_credentials),
    createdAt: r.created_at,
  };
}

async function selectServers(db: SqlExecutor, where: string, params: readonly SqlParam[]): Promise<Server[]> {
  const rows = await db.all<ServerRow>(
    `SELECT ${COLUMNS} FROM servers s WHERE ${where} ORDER BY s.name`,
    params,
  );
  if (rows.length === 0) return [];
  const grants = await grantsOf(db, where, params);
  return rows.map((r) => toServer(r, grants));
}

async function setGrants(
  tx: SqlExecutor,
  serverId: string,
  userIds?: string[],
  groupIds?: string[],
): Promise<void> {
  if (userIds !== undefined) {
    await tx.run('DELETE FROM server_users WHERE server_id = ?', [serverId]);
    for (const id of userIds)
      await tx.run('INSERT INTO server_users (server_id, user_id) VALUES (?, ?)', [serverId, id]);
  }
  if (groupIds !== undefined) {
    await tx.run('DELETE FROM server_groups WHERE server_id = ?', [serverId]);
    for (const id of groupIds) {
      await tx.run('INSERT INTO server_groups (server_id, group_id) VALUES (?, ?)', [serverId, id]);
    }
  }
}

export async function createServer(db: SqlDriver, box: SecretBox, s: NewServer): Promise<Server> {
  const id = newId();
  const userIds = distinct(s.userIds);
  const groupIds = distinct(s.groupIds);
  const createdAt = Date.now();
  const credentials = sealCredentials(box, id, s.credentials);
  return withConflicts(db, { unique: nameTaken(s.name), refs: refs(s.zoneId, userIds, groupIds) }, () =>
    db.transaction(async (tx) => {
      await tx.run(
        'INSERT INTO servers (id, name, protocol, host, port, zone_id, params, dlp, credentials, created_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          id,
          s.name,
          s.protocol,
          s.host,
          s.port,
          s.zoneId,
          JSON.stringify(cleanParams(s.params)),
          JSON.stringify(cleanDlp(s.dlp)),
          credentials,
          createdAt,
        ],
      );
      await setGrants(tx, id, userIds, groupIds);
      const [server] = await selectServers(tx, 's.id = ?', [id]);
      return server as Server;
    }),
  );
}

export async function getServer(db: SqlDriver, id: string): Promise<Server | null> {
  return (await selectServers(db, 's.id = ?', [id]))[0] ?? null;
}

export function listServers(db: SqlDriver): Promise<Server[]> {
  return selectServers(db, '1 = 1', []);
}

export function listServersForUser(db: SqlDriver, userId: string): Promise<Server[]> {
  return selectServers(db, `s.id IN (${GRANTED_TO_USER})`, [userId, userId]);
}

export async function mayUseServer(db: SqlDriver, userId: string, serverId: string): Promise<boolean> {
  const row = await db.get<{ ok: number }>(
    `SELECT 1 AS ok FROM servers s WHERE s.id = ? AND s.id IN (${GRANTED_TO_USER})`,
    [serverId, userId, userId],
  );
  return row !== undefined;
}

export async function updateServer(
  db: SqlDriver,
  box: SecretBox,
  id: string,
  patch: ServerPatch,
): Promise<Server | null> {
  const userIds = patch.userIds === undefined ? undefined : distinct(patch.userIds);
  const groupIds = patch.groupIds === undefined ? undefined : distinct(patch.groupIds);
  const set = setClause(patch, {
    name: ['name'],
    protocol: ['protocol'],
    host: ['host'],
    port: ['port'],
    zoneId: ['zone_id'],
    params: ['params', (p) => JSON.stringify(cleanParams(p))],
    dlp: ['dlp', (d) => JSON.stringify(cleanDlp(d))],
  });
  if (patch.credentials !== undefined) {
    set.sql += `${set.sql === '' ? '' : ', '}credentials = ?`;
    set.values.push(sealCredentials(box, id, patch.credentials));
  }
  return withConflicts(
    db,
    { unique: nameTaken(patch.name ?? ''), refs: refs(patch.zoneId, userIds, groupIds) },
    () =>
      db.transaction(async (tx) => {
        const exists =
          set.sql === ''
            ? (await tx.get<{ id: string }>('SELECT id FROM servers WHERE id = ?', [id])) !== undefined
            : (await tx.run(`UPDATE servers SET ${set.sql} WHERE id = ?`, [...set.values, id])).changes > 0;
        if (!exists) return null;
        await setGrants(tx, id, userIds, groupIds);
        return (await selectServers(tx, 's.id = ?', [id]))[0] ?? null;
      }),
  );
}

/** Also removes its grants and unredeemed tokens (cascade); audit sessions keep its id. */
export async function deleteServer(db: SqlDriver, id: string): Promise<boolean> {
  return (await db.run('DELETE FROM servers WHERE id = ?', [id])).changes > 0;
}

export async function getServerCredentials(
  db: SqlDriver,
  box: SecretBox,
  id: string,
): Promise<ServerCredentials | null> {
  const row = await db.get<{ credentials: string | null }>('SELECT credentials FROM servers WHERE id = ?', [
    id,
  ]);
  if (row === undefined || row.credentials === null) return null;
  const where = `servers.credentials of ${id}`;
  let text: string;
  try {
    text = box.open(row.credentials, id);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
  }
  const obj = parseJsonObject(text, where);
  return cleanCredentials(obj as ServerCredentials);
}
