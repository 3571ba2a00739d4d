// Picking a proxy for a server and issuing the one-time token bound to user + server + proxy.
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';
import { HttpError } from '../http/errors.js';
import { selectProxy } from '../proxies/select.js';
import { randomSecret, sha256Hex } from '../security/tokens.js';
import type { ConnectionProxy, ProxyKind, Server, TokenKind, User } from '../store/types.js';

/** Administrators may use every server; others what is granted to them or their groups. */
export async function mayUse(ctx: AppContext, user: User, serverId: string): Promise<boolean> {
  return user.role === 'admin' || ctx.store.mayUseServer(user.id, serverId);
}

/** The server if the user may use it: 404 unknown, 403 not granted. */
export async function serverForUser(ctx: AppContext, user: User, serverId: string): Promise<Server> {
  const server = await ctx.store.getServer(serverId);
  if (!server) throw new HttpError(404, 'not-found', 'No such server');
  if (!(await mayUse(ctx, user, server.id))) {
    throw new HttpError(403, 'forbidden', 'This server is not available to you');
  }
  return server;
}

/** A healthy proxy of the kind in the server's zone (then other zones when the zone allows), or 503. */
export async function pickProxy(ctx: AppContext, server: Server, kind: ProxyKind): Promise<ConnectionProxy> {
  const what = kind === 'guac' ? 'connection proxy' : 'RDP gateway';
  const own = await ctx.store.listEnabledProxies(kind, server.zoneId);
  let picked = await selectProxy(own, ctx.checker);
  let tried = picked.tried;
  if (!picked.proxy) {
    const zone = await ctx.store.getZone(server.zoneId);
    if (zone?.searchAlternateZones) {
      picked = await selectProxy(await ctx.store.listEnabledProxies(kind, server.zoneId, true), ctx.checker);
      tried = [...tried, ...picked.tried];
    }
  }
  if (!picked.proxy) {
    ctx.log.warn({ server: server.name, kind, tried }, `connect: no healthy ${what}`);
    throw new HttpError(
      503,
      'no-proxy',
      tried.length === 0
        ? `No ${what} serves this server's zone; ask an administrator`
        : `No ${what} is available for this server right now (${tried.length} checked); try again shortly`,
      undefined,
      { 'Retry-After': '5' },
    );
  }
  return picked.proxy;
}

export async function issueToken(
  ctx: AppContext,
  kind: TokenKind,
  user: User,
  server: Server,
  proxy: ConnectionProxy,
  webSessionId: string | null,
  ttlSeconds: number,
): Promise<{ token: string; expiresAt: number }> {
  // .rdp tokens travel as the X.224 routing token, whose length should be even (Microsoft's advice): 44 chars.
  const token = kind === 'rdp' ? randomBytes(33).toString('base64url') : randomSecret();
  const now = ctx.now();
  const expiresAt = now + ttlSeconds * 1000;
  await ctx.store.createToken({
    hash: sha256Hex(token),
    kind,
    userId: user.id,
    serverId: server.id,
    proxyId: proxy.id,
    webSessionId,
    createdAt: now,
    expiresAt,
  });
  return { token, expiresAt };
}
