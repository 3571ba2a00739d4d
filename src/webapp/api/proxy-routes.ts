// The proxies' side (docs/proxy-auth.md): registration at start-up and the token redeem callback. Both are
// authenticated by the proxy's bearer secret (SHA-256 stored, compared in constant time) and its name.
import {
  type RegisterRequest,
  redeemErrorSchema,
  redeemRequestSchema,
  redeemResponseSchema,
  registerErrorSchema,
  registerRequestSchema,
  registerResponseSchema,
} from '../../proxy/auth/schemas.js';
import type { AppContext } from '../context.js';
import { HttpError } from '../http/errors.js';
import { defineRoute, type Route } from '../http/route.js';
import { sha256Hex, TOKEN_PATTERN } from '../security/tokens.js';
import type { ConnectionProxy } from '../store/types.js';
import { mayUse } from './connect.js';
import { effectiveDlp } from './dlp.js';
import { grantTarget } from './grant.js';

interface RedeemBody {
  token: string;
  proxy: { id: string };
  client: { remoteAddress: string; userAgent?: string };
}

const tokenInvalid = () => new HttpError(401, 'token-invalid', 'Unknown, expired or already used token');

export function proxyRoutes(ctx: AppContext): Route[] {
  return [
    defineRoute<RegisterRequest>({
      method: 'POST',
      path: '/api/proxy/register',
      access: 'proxy',
      tag: 'proxy',
      summary: 'A connection proxy announces its address (at start-up and every few minutes)',
      body: registerRequestSchema,
      responses: {
        200: { description: 'Registered', schema: registerResponseSchema },
        400: { description: 'Invalid request', schema: registerErrorSchema },
        401: { description: 'Unknown proxy or wrong secret', schema: registerErrorSchema },
        403: { description: 'Proxy disabled', schema: registerErrorSchema },
        409: { description: 'Zone or kind differs from the proxy record', schema: registerErrorSchema },
      },
      async handler({ body, proxy }) {
        const p = proxy as ConnectionProxy;
        const zone = await ctx.store.getZone(p.zoneId);
        if (!zone) throw new HttpError(409, 'zone-mismatch', 'The proxy record has no zone');
        if (body.zone !== null && body.zone !== zone.name) {
          throw new HttpError(409, 'zone-mismatch', `This proxy is in zone ${zone.name}, not ${body.zone}`);
        }
        if (p.kind !== body.kind) {
          throw new HttpError(
            409,
            'zone-mismatch',
            `This proxy is registered as ${p.kind}, not ${body.kind}`,
          );
        }
        await ctx.store.markProxyRegistered(p.id, body.address, ctx.now());
        ctx.checker.forget?.(p.id);
        ctx.log.info({ proxy: p.name, address: body.address, version: body.version }, 'proxy registered');
        return { status: 200, json: { id: p.name, zone: zone.name } };
      },
    }),
    defineRoute<RedeemBody>({
      method: 'POST',
      path: '/api/proxy/redeem',
      access: 'proxy',
      tag: 'proxy',
      summary: 'A connection proxy redeems a one-time token: target, credentials and policy of the session',
      body: redeemRequestSchema,
      responses: {
        200: { description: 'The grant', schema: redeemResponseSchema },
        400: { description: 'Invalid request', schema: redeemErrorSchema },
        401: { description: 'Token invalid (or proxy unauthorized)', schema: redeemErrorSchema },
        403: { description: 'The user may not use the server (any more)', schema: redeemErrorSchema },
        404: { description: 'The server no longer exists', schema: redeemErrorSchema },
      },
      async handler({ body, proxy }) {
        const p = proxy as ConnectionProxy;
        if (!TOKEN_PATTERN.test(body.token)) throw tokenInvalid();
        const outcome = await ctx.store.redeemToken(
          sha256Hex(body.token),
          p.id,
          ctx.now(),
          ctx.config.tokens.replayWindowSeconds * 1000,
          body.client.remoteAddress || null,
        );
        if (!outcome.ok) {
          ctx.log.warn({ proxy: p.name, reason: outcome.reason }, 'redeem refused');
          throw tokenInvalid();
        }
        const { token, sessionId, replay } = outcome;
        const [user, server] = await Promise.all([
          ctx.store.getUser(token.userId),
          ctx.store.getServer(token.serverId),
        ]);
        const refuse = async (err: HttpError, why: string) => {
          await ctx.store.endSession(sessionId, ctx.now(), why, 0, 0);
          return err;
        };
        if (!server)
          throw await refuse(
            new HttpError(404, 'unknown-target', 'The server no longer exists'),
            'server removed',
          );
        if (!user || user.disabled || !(await mayUse(ctx, user, server.id))) {
          throw await refuse(
            new HttpError(403, 'forbidden', 'The user may not use this server'),
            'access revoked',
          );
        }
        const dlp = effectiveDlp(await ctx.store.groupPoliciesOfUser(user.id), server.dlp);
        const creds = await ctx.store.getServerCredentials(server.id);
        const { target, policy } = grantTarget(server, creds, dlp);
        ctx.log.info(
          { proxy: p.name, user: user.username, server: server.name, session: sessionId, replay },
          'token redeemed',
        );
        return { status: 200, json: { id: sessionId, user: user.username, target, policy, dlp } };
      },
    }),
  ];
}
