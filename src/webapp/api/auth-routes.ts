// Sign in / out and "who am I". Failed sign-ins are limited per user name and per client address (429 with
// Retry-After); unknown users cost a password check too, so timing does not tell which names exist.
import type { AppContext } from '../context.js';
import { HttpError } from '../http/errors.js';
import { defineRoute, type Route } from '../http/route.js';
import { dummyHash, verifyPassword } from '../security/passwords.js';
import type { User } from '../store/types.js';
import { errors, meOut } from './schemas.js';

export const publicUser = (u: User) => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
  disabled: u.disabled,
  createdAt: u.createdAt,
});

const loginBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
};

export function authRoutes(ctx: AppContext): Route[] {
  return [
    defineRoute<{ username: string; password: string }>({
      method: 'POST',
      path: '/api/login',
      access: 'public',
      tag: 'session',
      summary: 'Sign in: sets the session cookie and returns the CSRF token for later changes',
      body: loginBody,
      responses: { 200: { description: 'Signed in', schema: meOut }, ...errors(400, 401, 429) },
      async handler({ body, clientAddress }) {
        const userKey = `u:${body.username.toLowerCase()}`;
        const addrKey = `a:${clientAddress}`;
        const wait = Math.max(ctx.loginByUser.retryAfter(userKey), ctx.loginByAddress.retryAfter(addrKey));
        if (wait > 0) {
          throw new HttpError(
            429,
            'rate-limited',
            `Too many failed sign-ins; try again in ${wait} s`,
            undefined,
            {
              'Retry-After': String(wait),
            },
          );
        }
        const user = await ctx.store.getUserByUsername(body.username);
        const ok = await verifyPassword(body.password, user?.passwordHash ?? (await dummyHash()));
        if (!user || !ok || user.disabled) {
          ctx.loginByUser.fail(userKey);
          ctx.loginByAddress.fail(addrKey);
          ctx.log.warn(
            { username: body.username, address: clientAddress, disabled: user?.disabled },
            'sign-in failed',
          );
          throw new HttpError(401, 'bad-credentials', 'Wrong user name or password');
        }
        ctx.loginByUser.reset(userKey);
        const { setCookie, session } = await ctx.sessions.create(user);
        ctx.log.info({ user: user.username, address: clientAddress }, 'signed in');
        return {
          status: 200,
          json: { user: publicUser(user), csrfToken: session.csrfToken },
          headers: { 'Set-Cookie': setCookie },
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/logout',
      access: 'user',
      tag: 'session',
      summary: 'Sign out: ends the login session',
      responses: { 204: { description: 'Signed out' }, ...errors(401, 403) },
      async handler({ webSession }) {
        const clear = await ctx.sessions.destroy((webSession as { id: string }).id);
        return { status: 204, headers: { 'Set-Cookie': clear } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/me',
      access: 'user',
      tag: 'session',
      summary: 'The signed-in user and the CSRF token',
      responses: { 200: { description: 'Signed in', schema: meOut }, ...errors(401) },
      async handler({ user, webSession }) {
        return { status: 200, json: { user: publicUser(user as User), csrfToken: webSession?.csrfToken } };
      },
    }),
  ];
}
