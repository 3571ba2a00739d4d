// Admin: users and groups. Passwords are write-only (hashed with scrypt); changing a password, disabling a
// user or changing their role ends their login sessions. The last enabled admin cannot be removed, demoted or
// disabled, and nobody can delete themselves.
import type { AppContext } from '../context.js';
import { conflict } from '../http/errors.js';
import type { RequestContext, Route } from '../http/route.js';
import { hashPassword } from '../security/passwords.js';
import type { GroupPatch, NewGroup, Role, User, UserPatch } from '../store/types.js';
import { publicUser } from './auth-routes.js';
import { crudRoutes, patchOf } from './crud.js';
import * as S from './schemas.js';

interface UserIn {
  username: string;
  displayName?: string;
  role: Role;
  password: string;
  disabled?: boolean;
}
type UserPatchIn = Partial<Omit<UserIn, 'username'>>;

const userBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'role', 'password'],
  properties: {
    username: S.username,
    displayName: { type: 'string', maxLength: 128 },
    role: S.role,
    password: S.password,
    disabled: { type: 'boolean' },
  },
};
const userPatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    displayName: { type: 'string', maxLength: 128 },
    role: S.role,
    password: S.password,
    disabled: { type: 'boolean' },
  },
};
const groupBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: S.name, dlp: S.dlpSettings, memberIds: S.idList },
};

async function guardLastAdmin(ctx: AppContext, target: User, losesAdmin: boolean): Promise<void> {
  if (!losesAdmin || target.role !== 'admin' || target.disabled) return;
  const enabledAdmins = (await ctx.store.listUsers()).filter((u) => u.role === 'admin' && !u.disabled);
  if (enabledAdmins.length <= 1) throw conflict('This is the last administrator; make another one first');
}

export function adminDirectoryRoutes(ctx: AppContext): Route[] {
  const { store } = ctx;
  return [
    ...crudRoutes<User, UserIn, UserPatchIn>({
      plural: 'users',
      singular: 'user',
      out: S.userOut,
      createBody: userBody,
      patchBody: userPatchBody,
      view: publicUser,
      list: () => store.listUsers(),
      get: (id) => store.getUser(id),
      create: async (b) => {
        const { password, ...rest } = b;
        const user = await store.createUser({ ...rest, passwordHash: await hashPassword(password) });
        return { json: publicUser(user) };
      },
      update: async (id, b, rc: RequestContext<UserPatchIn>) => {
        const target = await store.getUser(id);
        if (!target) return null;
        await guardLastAdmin(
          ctx,
          target,
          (b.role !== undefined && b.role !== 'admin') || b.disabled === true,
        );
        const patch: UserPatch = {};
        if (b.displayName !== undefined) patch.displayName = b.displayName;
        if (b.role !== undefined) patch.role = b.role;
        if (b.disabled !== undefined) patch.disabled = b.disabled;
        if (b.password !== undefined) patch.passwordHash = await hashPassword(b.password);
        const updated = await store.updateUser(id, patch);
        const endLogins =
          b.password !== undefined || b.disabled === true || (b.role !== undefined && b.role !== target.role);
        if (updated && endLogins && rc.user?.id !== id) await store.deleteWebSessionsOfUser(id);
        ctx.log.info(
          { admin: rc.user?.username, user: target.username, fields: Object.keys(b) },
          'user changed',
        );
        return updated;
      },
      remove: async (id, rc) => {
        const target = await store.getUser(id);
        if (!target) return false;
        if (rc.user?.id === id) throw conflict('You cannot delete yourself');
        await guardLastAdmin(ctx, target, true);
        await store.deleteWebSessionsOfUser(id);
        return store.deleteUser(id);
      },
    }),
    ...crudRoutes<unknown, NewGroup, GroupPatch>({
      plural: 'groups',
      singular: 'group',
      out: S.groupOut,
      createBody: groupBody,
      patchBody: patchOf(groupBody),
      list: () => store.listGroups(),
      get: (id) => store.getGroup(id),
      create: async (b) => ({ json: await store.createGroup(b) }),
      update: (id, b) => store.updateGroup(id, b),
      remove: (id) => store.deleteGroup(id),
    }),
  ];
}
