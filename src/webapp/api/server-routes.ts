// The user's side: my servers, connect in the browser, download a .rdp file for a thick client.
import type { AppContext } from '../context.js';
import { HttpError } from '../http/errors.js';
import { defineRoute, type Route } from '../http/route.js';
import { buildRdpFile, encodeRdpFile, RDP_CONTENT_TYPE, rdpFileName } from '../rdp-file/build.js';
import { signRdpFile } from '../rdp-file/sign.js';
import type { User } from '../store/types.js';
import { issueToken, pickProxy, serverForUser } from './connect.js';
import { effectiveDlp } from './dlp.js';
import { errors, id, protocol } from './schemas.js';

const myServers = {
  type: 'object',
  required: ['servers'],
  properties: {
    servers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'protocol', 'zone'],
        properties: {
          id,
          name: { type: 'string' },
          protocol,
          zone: { type: 'object', required: ['id', 'name'], properties: { id, name: { type: 'string' } } },
        },
      },
    },
  },
};

const connectOut = {
  type: 'object',
  required: ['token', 'tunnelUrl', 'expiresAt', 'proxy'],
  properties: {
    token: { type: 'string' },
    tunnelUrl: { type: 'string' },
    expiresAt: { type: 'string', description: 'RFC 3339' },
    proxy: { type: 'object', required: ['id', 'name'], properties: { id, name: { type: 'string' } } },
  },
};

export function serverRoutes(ctx: AppContext): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/servers',
      access: 'user',
      tag: 'servers',
      summary: 'The servers the signed-in user may use',
      responses: { 200: { description: 'My servers', schema: myServers }, ...errors(401) },
      async handler({ user }) {
        const [servers, zones] = await Promise.all([
          (user as User).role === 'admin'
            ? ctx.store.listServers()
            : ctx.store.listServersForUser((user as User).id),
          ctx.store.listZones(),
        ]);
        const zoneName = new Map(zones.map((z) => [z.id, z.name]));
        return {
          status: 200,
          json: {
            servers: servers.map((s) => ({
              id: s.id,
              name: s.name,
              protocol: s.protocol,
              zone: { id: s.zoneId, name: zoneName.get(s.zoneId) ?? '' },
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/servers/{id}/connect',
      access: 'user',
      tag: 'servers',
      summary:
        'Connect in the browser: picks a healthy connection proxy of the server zone and issues a one-time token for the tunnel',
      responses: {
        200: { description: 'Token and tunnel', schema: connectOut },
        ...errors(401, 403, 404, 503),
      },
      async handler({ user, params, webSession }) {
        const u = user as User;
        const server = await serverForUser(ctx, u, params.id as string);
        const proxy = await pickProxy(ctx, server, 'guac');
        const { token, expiresAt } = await issueToken(
          ctx,
          'tunnel',
          u,
          server,
          proxy,
          webSession?.id ?? null,
          ctx.config.tokens.ttlSeconds,
        );
        return {
          status: 200,
          json: {
            token,
            tunnelUrl: '/api/tunnel',
            expiresAt: new Date(expiresAt).toISOString(),
            proxy: { id: proxy.id, name: proxy.name },
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/servers/{id}/rdp',
      access: 'user',
      tag: 'servers',
      summary: 'A signed .rdp file for a thick client, pointing at a healthy RDP gateway of the server zone',
      responses: {
        200: { description: 'The .rdp file', contentType: 'application/x-rdp' },
        ...errors(400, 401, 403, 404, 503),
      },
      async handler({ user, params }) {
        const u = user as User;
        const server = await serverForUser(ctx, u, params.id as string);
        if (server.protocol !== 'rdp')
          throw new HttpError(400, 'not-rdp', 'Only RDP servers have .rdp files');
        const gateway = await pickProxy(ctx, server, 'rdp-gateway');
        const { token } = await issueToken(
          ctx,
          'rdp',
          u,
          server,
          gateway,
          null,
          ctx.config.tokens.rdpTtlSeconds,
        );
        const dlp = effectiveDlp(await ctx.store.groupPoliciesOfUser(u.id), server.dlp);
        let text = buildRdpFile({
          gatewayAddress: gateway.address.replace(/^[a-z]+:\/\//, ''),
          token,
          serverName: server.name,
          dlp,
          username: u.username,
        });
        if (ctx.rdpSigner) text = signRdpFile(text, ctx.rdpSigner);
        // UTF-16LE with a byte-order mark: what mstsc writes and reads.
        return {
          status: 200,
          body: encodeRdpFile(text),
          contentType: RDP_CONTENT_TYPE,
          headers: { 'Content-Disposition': `attachment; filename="${rdpFileName(server.name)}"` },
        };
      },
    }),
  ];
}
