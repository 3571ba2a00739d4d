/** Zones in the SQL store. */
import { SqlConstraintError, type SqlDriver } from '../../db/driver.js';
import { type NewZone, StoreConflictError, type Zone, type ZonePatch } from '../types.js';
import { flag, newId, setClause, withConflicts } from './common.js';

interface ZoneRow {
  id: string;
  name: string;
  search_alternate_zones: number;
  created_at: number;
}

const COLUMNS = 'id, name, search_alternate_zones, created_at';

function toZone(r: ZoneRow): Zone {
  return {
    id: r.id,
    name: r.name,
    searchAlternateZones: flag(r.search_alternate_zones),
    createdAt: r.created_at,
  };
}

const nameTaken = (name: string): [string, string] => ['name', `a zone named "${name}" exists`];

export async function createZone(db: SqlDriver, z: NewZone): Promise<Zone> {
  const zone: Zone = {
    id: newId(),
    name: z.name,
    searchAlternateZones: z.searchAlternateZones ?? false,
    createdAt: Date.now(),
  };
  await withConflicts(db, { unique: nameTaken(z.name) }, () =>
    db.run('INSERT INTO zones (id, name, search_alternate_zones, created_at) VALUES (?, ?, ?, ?)', [
      zone.id,
      zone.name,
      zone.searchAlternateZones,
      zone.createdAt,
    ]),
  );
  return zone;
}

export async function getZone(db: SqlDriver, id: string): Promise<Zone | null> {
  const row = await db.get<ZoneRow>(`SELECT ${COLUMNS} FROM zones WHERE id = ?`, [id]);
  return row === undefined ? null : toZone(row);
}

export async function getZoneByName(db: SqlDriver, name: string): Promise<Zone | null> {
  const row = await db.get<ZoneRow>(`SELECT ${COLUMNS} FROM zones WHERE name = ?`, [name]);
  return row === undefined ? null : toZone(row);
}

export async function listZones(db: SqlDriver): Promise<Zone[]> {
  return (await db.all<ZoneRow>(`SELECT ${COLUMNS} FROM zones ORDER BY name`)).map(toZone);
}

export async function updateZone(db: SqlDriver, id: string, patch: ZonePatch): Promise<Zone | null> {
  const set = setClause(patch, { name: ['name'], searchAlternateZones: ['search_alternate_zones'] });
  if (set.sql === '') return getZone(db, id);
  const row = await withConflicts(db, { unique: nameTaken(patch.name ?? '') }, () =>
    db.get<ZoneRow>(`UPDATE zones SET ${set.sql} WHERE id = ? RETURNING ${COLUMNS}`, [...set.values, id]),
  );
  return row === undefined ? null : toZone(row);
}

/** Refused with StoreConflictError (field `id`) while servers or proxies are in the zone. */
export async function deleteZone(db: SqlDriver, id: string): Promise<boolean> {
  try {
    return (await db.run('DELETE FROM zones WHERE id = ?', [id])).changes > 0;
  } catch (err) {
    if (!(err instanceof SqlConstraintError && err.kind === 'foreign-key')) throw err;
    const servers = await db.get<{ n: number }>('SELECT count(*) AS n FROM servers WHERE zone_id = ?', [id]);
    const proxies = await db.get<{ n: number }>('SELECT count(*) AS n FROM proxies WHERE zone_id = ?', [id]);
    throw new StoreConflictError(
      `the zone is in use by ${servers?.n ?? 0} server(s) and ${proxies?.n ?? 0} proxy(ies); move or delete them first`,
      'id',
    );
  }
}
