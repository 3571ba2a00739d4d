/** Users in the SQL store. */
import type { SqlDriver } from '../../db/driver.js';
import type { NewUser, Role, User, UserPatch, UserWithHash } from '../types.js';
import { flag, newId, setClause, withConflicts } from './common.js';

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  disabled: number;
  created_at: number;
  password_hash?: string;
}

const COLUMNS = 'id, username, display_name, role, disabled, created_at';

function toUser(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    role: r.role,
    disabled: flag(r.disabled),
    createdAt: r.created_at,
  };
}

const taken = (username: string): [string, string] => ['username', `the user name "${username}" is taken`];

export async function createUser(db: SqlDriver, u: NewUser): Promise<User> {
  const user: User = {
    id: newId(),
    username: u.username,
    displayName: u.displayName ?? u.username,
    role: u.role,
    disabled: u.disabled ?? false,
    createdAt: Date.now(),
  };
  await withConflicts(db, { unique: taken(u.username) }, () =>
    db.run(
      'INSERT INTO users (id, username, display_name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [user.id, user.username, user.displayName, user.role, u.passwordHash, user.disabled, user.createdAt],
    ),
  );
  return user;
}

export async function getUser(db: SqlDriver, id: string): Promise<User | null> {
  const row = await db.get<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = ?`, [id]);
  return row === undefined ? null : toUser(row);
}

export async function getUserByUsername(db: SqlDriver, username: string): Promise<UserWithHash | null> {
  const row = await db.get<UserRow>(`SELECT ${COLUMNS}, password_hash FROM users WHERE username = ?`, [
    username,
  ]);
  return row === undefined ? null : { ...toUser(row), passwordHash: row.password_hash ?? '' };
}

export async function listUsers(db: SqlDriver): Promise<User[]> {
  return (await db.all<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY username`)).map(toUser);
}

export async function updateUser(db: SqlDriver, id: string, patch: UserPatch): Promise<User | null> {
  const set = setClause(patch, {
    displayName: ['display_name'],
    role: ['role'],
    disabled: ['disabled'],
    passwordHash: ['password_hash'],
  });
  if (set.sql === '') return getUser(db, id);
  const row = await db.get<UserRow>(`UPDATE users SET ${set.sql} WHERE id = ? RETURNING ${COLUMNS}`, [
    ...set.values,
    id,
  ]);
  return row === undefined ? null : toUser(row);
}

/** Also removes the user's grants, group memberships, login sessions and unredeemed tokens (cascade). */
export async function deleteUser(db: SqlDriver, id: string): Promise<boolean> {
  return (await db.run('DELETE FROM users WHERE id = ?', [id])).changes > 0;
}

/** Admins who can log in (disabled ones do not count). */
export async function countAdmins(db: SqlDriver): Promise<number> {
  const row = await db.get<{ n: number }>(
    "SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled = 0",
  );
  return Number(row?.n ?? 0);
}
