/** Connection proxies in the SQL store. */
import type { SqlDriver } from '../../db/driver.js';
import type { ConnectionProxy, NewProxy, ProxyHealth, ProxyKind, ProxyPatch } from '../types.js';
import { flag, newId, type Ref, setClause, withConflicts } from './common.js';

interface ProxyRow {
  id: string;
  name: string;
  zone_id: string;
  kind: ProxyKind;
  address: string;
  enabled: number;
  health_ok: number | null;
  health_at: number | null;
  health_detail: string | null;
  registered_at: number | null;
  created_at: number;
  secret_hash?: string;
}

const COLUMNS =
  'id, name, zone_id, kind, address, enabled, health_ok, health_at, health_detail, registered_at, created_at';

function toProxy(r: ProxyRow): ConnectionProxy {
  let lastHealth: ProxyHealth | null = null;
  if (r.health_at !== null) {
    lastHealth = { ok: flag(r.health_ok), at: r.health_at };
    if (r.health_detail !== null) lastHealth.detail = r.health_detail;
  }
  return {
    id: r.id,
    name: r.name,
    zoneId: r.zone_id,
    kind: r.kind,
    address: r.address,
    enabled: flag(r.enabled),
    lastHealth,
    registeredAt: r.registered_at,
    createdAt: r.created_at,
  };
}

const nameTaken = (name: string): [string, string] => ['name', `a proxy named "${name}" exists`];
const zoneRef = (zoneId: string | undefined): Ref[] => [
  { field: 'zoneId', what: 'zone', table: 'zones', ids: [zoneId] },
];

export async function createProxy(db: SqlDriver, p: NewProxy): Promise<ConnectionProxy> {
  const proxy: ConnectionProxy = {
    id: newId(),
    name: p.name,
    zoneId: p.zoneId,
    kind: p.kind,
    address: p.address ?? '',
    enabled: p.enabled ?? true,
    lastHealth: null,
    registeredAt: null,
    createdAt: Date.now(),
  };
  await withConflicts(db, { unique: nameTaken(p.name), refs: zoneRef(p.zoneId) }, () =>
    db.run(
      'INSERT INTO proxies (id, name, zone_id, kind, address, enabled, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        proxy.id,
        proxy.name,
        proxy.zoneId,
        proxy.kind,
        proxy.address,
        proxy.enabled,
        p.secretHash,
        proxy.createdAt,
      ],
    ),
  );
  return proxy;
}

export async function getProxy(db: SqlDriver, id: string): Promise<ConnectionProxy | null> {
  const row = await db.get<ProxyRow>(`SELECT ${COLUMNS} FROM proxies WHERE id = ?`, [id]);
  return row === undefined ? null : toProxy(row);
}

export async function getProxyByName(
  db: SqlDriver,
  name: string,
): Promise<(ConnectionProxy & { secretHash: string }) | null> {
  const row = await db.get<ProxyRow>(`SELECT ${COLUMNS}, secret_hash FROM proxies WHERE name = ?`, [name]);
  return row === undefined ? null : { ...toProxy(row), secretHash: row.secret_hash ?? '' };
}

export async function listProxies(db: SqlDriver): Promise<ConnectionProxy[]> {
  return (await db.all<ProxyRow>(`SELECT ${COLUMNS} FROM proxies ORDER BY name`)).map(toProxy);
}

export async function listEnabledProxies(
  db: SqlDriver,
  kind: ProxyKind,
  zoneId: string,
  exceptZone = false,
): Promise<ConnectionProxy[]> {
  const rows = await db.all<ProxyRow>(
    `SELECT ${COLUMNS} FROM proxies WHERE enabled = 1 AND kind = ? AND zone_id ${exceptZone ? '<>' : '='} ? ORDER BY name`,
    [kind, zoneId],
  );
  return rows.map(toProxy);
}

export async function updateProxy(
  db: SqlDriver,
  id: string,
  patch: ProxyPatch,
): Promise<ConnectionProxy | null> {
  const set = setClause(patch, {
    name: ['name'],
    zoneId: ['zone_id'],
    kind: ['kind'],
    address: ['address'],
    enabled: ['enabled'],
    secretHash: ['secret_hash'],
  });
  if (set.sql === '') return getProxy(db, id);
  const row = await withConflicts(
    db,
    { unique: nameTaken(patch.name ?? ''), refs: zoneRef(patch.zoneId) },
    () =>
      db.get<ProxyRow>(`UPDATE proxies SET ${set.sql} WHERE id = ? RETURNING ${COLUMNS}`, [
        ...set.values,
        id,
      ]),
  );
  return row === undefined ? null : toProxy(row);
}

/** Also removes its unredeemed tokens (cascade); audit sessions keep its id. */
export async function deleteProxy(db: SqlDriver, id: string): Promise<boolean> {
  return (await db.run('DELETE FROM proxies WHERE id = ?', [id])).changes > 0;
}

export async function setProxyHealth(db: SqlDriver, id: string, health: ProxyHealth): Promise<void> {
  await db.run('UPDATE proxies SET health_ok = ?, health_at = ?, health_detail = ? WHERE id = ?', [
    health.ok,
    health.at,
    health.detail ?? null,
    id,
  ]);
}

export async function markProxyRegistered(
  db: SqlDriver,
  id: string,
  address: string,
  at: number,
): Promise<void> {
  await db.run('UPDATE proxies SET address = ?, registered_at = ? WHERE id = ?', [address, at, id]);
}
