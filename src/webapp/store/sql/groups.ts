/** Groups and their members in the SQL store. */
import type { SqlDriver, SqlExecutor } from '../../db/driver.js';
import type { DlpSettings, Group, GroupPatch, NewGroup } from '../types.js';
import { cleanDlp, distinct, marks, newId, parseDlp, type Ref, setClause, withConflicts } from './common.js';

interface GroupRow {
  id: string;
  name: string;
  dlp: string;
  created_at: number;
}

const COLUMNS = 'id, name, dlp, created_at';

function toGroup(r: GroupRow, memberIds: string[]): Group {
  return {
    id: r.id,
    name: r.name,
    dlp: parseDlp(r.dlp, `groups.dlp of ${r.id}`),
    memberIds,
    createdAt: r.created_at,
  };
}

const nameTaken = (name: string): [string, string] => ['name', `a group named "${name}" exists`];
const memberRefs = (ids: readonly string[] | undefined): Ref[] => [
  { field: 'memberIds', what: 'user', table: 'users', ids: ids ?? [] },
];

/** Member ids by group id, for the groups given (all when omitted). */
async function membersOf(db: SqlExecutor, groupIds?: readonly string[]): Promise<Map<string, string[]>> {
  const rows =
    groupIds === undefined
      ? await db.all<{ group_id: string; user_id: string }>(
          'SELECT group_id, user_id FROM group_members ORDER BY group_id, user_id',
        )
      : groupIds.length === 0
        ? []
        : await db.all<{ group_id: string; user_id: string }>(
            `SELECT group_id, user_id FROM group_members WHERE group_id IN (${marks(groupIds.length)}) ORDER BY group_id, user_id`,
            groupIds,
          );
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = out.get(r.group_id);
    if (list === undefined) out.set(r.group_id, [r.user_id]);
    else list.push(r.user_id);
  }
  return out;
}

async function setMembers(tx: SqlExecutor, groupId: string, userIds: readonly string[]): Promise<void> {
  await tx.run('DELETE FROM group_members WHERE group_id = ?', [groupId]);
  for (const userId of userIds) {
    await tx.run('INSERT INTO group_members (group_id, user_id) VALUES (?, ?)', [groupId, userId]);
  }
}

async function getGroupOn(db: SqlExecutor, id: string): Promise<Group | null> {
  const row = await db.get<GroupRow>(`SELECT ${COLUMNS} FROM groups WHERE id = ?`, [id]);
  if (row === undefined) return null;
  return toGroup(row, (await membersOf(db, [id])).get(id) ?? []);
}

export async function createGroup(db: SqlDriver, g: NewGroup): Promise<Group> {
  const members = distinct(g.memberIds);
  const group: Group = {
    id: newId(),
    name: g.name,
    dlp: cleanDlp(g.dlp),
    memberIds: members,
    createdAt: Date.now(),
  };
  await withConflicts(db, { unique: nameTaken(g.name), refs: memberRefs(members) }, () =>
    db.transaction(async (tx) => {
      await tx.run('INSERT INTO groups (id, name, dlp, created_at) VALUES (?, ?, ?, ?)', [
        group.id,
        group.name,
        JSON.stringify(group.dlp),
        group.createdAt,
      ]);
      await setMembers(tx, group.id, members);
    }),
  );
  return { ...group, memberIds: [...members].sort() };
}

export function getGroup(db: SqlDriver, id: string): Promise<Group | null> {
  return getGroupOn(db, id);
}

export async function listGroups(db: SqlDriver): Promise<Group[]> {
  const rows = await db.all<GroupRow>(`SELECT ${COLUMNS} FROM groups ORDER BY name`);
  const members = await membersOf(db);
  return rows.map((r) => toGroup(r, members.get(r.id) ?? []));
}

export async function updateGroup(db: SqlDriver, id: string, patch: GroupPatch): Promise<Group | null> {
  const members = patch.memberIds === undefined ? undefined : distinct(patch.memberIds);
  const set = setClause(patch, { name: ['name'], dlp: ['dlp', (d) => JSON.stringify(cleanDlp(d))] });
  const unique = nameTaken(patch.name ?? '');
  return withConflicts(db, { unique, refs: memberRefs(members) }, () =>
    db.transaction(async (tx) => {
      const changed =
        set.sql === ''
          ? (await tx.get<{ id: string }>('SELECT id FROM groups WHERE id = ?', [id])) !== undefined
          : (await tx.run(`UPDATE groups SET ${set.sql} WHERE id = ?`, [...set.values, id])).changes > 0;
      if (!changed) return null;
      if (members !== undefined) await setMembers(tx, id, members);
      return getGroupOn(tx, id);
    }),
  );
}

/** Also removes its memberships and server grants (cascade). */
export async function deleteGroup(db: SqlDriver, id: string): Promise<boolean> {
  return (await db.run('DELETE FROM groups WHERE id = ?', [id])).changes > 0;
}

export async function groupPoliciesOfUser(db: SqlDriver, userId: string): Promise<DlpSettings[]> {
  const rows = await db.all<GroupRow>(
    `SELECT g.id, g.dlp FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = ? ORDER BY g.name`,
    [userId],
  );
  return rows.map((r) => parseDlp(r.dlp, `groups.dlp of ${r.id}`));
}
