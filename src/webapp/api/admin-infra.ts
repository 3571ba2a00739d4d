// Admin: zones, servers and connection proxies.
import type { AppContext } from '../context.js';
import { badRequest, notFound } from '../http/errors.js';
import { defineRoute, type Route } from '../http/route.js';
import { randomSecret, sha256Hex } from '../security/tokens.js';
import type {
  ConnectionProxy,
  NewProxy,
  NewServer,
  NewZone,
  ProxyKind,
  ProxyPatch,
  ServerPatch,
  ZonePatch,
} from '../store/types.js';
import { crudRoutes, mapConflicts, patchOf } from './crud.js';
import * as S from './schemas.js';
import { serverParamsProblem } from './server-params.js';

const zoneBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: S.name, searchAlternateZones: { type: 'boolean' } },
};

const serverBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'protocol', 'host', 'port', 'zoneId'],
  properties: {
    name: S.name,
    protocol: S.protocol,
    host: S.host,
    port: S.port,
    zoneId: S.id,
    params: S.params,
    dlp: S.dlpSettings,
    userIds: S.idList,
    groupIds: S.idList,
    credentials: S.credentialsIn,
  },
};

/** guac proxies: http(s)://host:port[/path]; RDP gateways: host:port. */
const GUAC_ADDRESS = /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}(\/[A-Za-z0-9._~/-]*)?$/;
const GATEWAY_ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

const proxyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'zoneId', 'kind'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
    zoneId: S.id,
    kind: S.proxyKind,
    address: { type: 'string', maxLength: 512 },
    enabled: { type: 'boolean' },
  },
};

function checkAddress(kind: ProxyKind, address: string | undefined): void {
  if (address === undefined || address === '') return;
  const ok = kind === 'guac' ? GUAC_ADDRESS.test(address) : GATEWAY_ADDRESS.test(address);
  if (!ok) {
    throw badRequest(
      kind === 'guac' ? 'address must look like http://host:port' : 'address must look like host:port',
      'address',
    );
  }
}

function checkServerParams(server: Pick<NewServer, 'protocol' | 'host' | 'port' | 'params'>): void {
  const problem = serverParamsProblem(server.protocol, server.host, server.port, server.params ?? {});
  if (problem) throw badRequest(problem.message, problem.field);
}

async function zoneMustExist(ctx: AppContext, zoneId: string | undefined): Promise<void> {
  if (zoneId !== undefined && !(await ctx.store.getZone(zoneId))) throw badRequest('No such zone', 'zoneId');
}

const withSecret = {
  type: 'object',
  required: ['proxy', 'secret'],
  properties: { proxy: S.proxyOut, secret: { type: 'string' } },
};

export function adminInfraRoutes(ctx: AppContext): Route[] {
  const { store } = ctx;
  return [
    ...crudRoutes<unknown, NewZone, ZonePatch>({
      plural: 'zones',
      singular: 'zone',
      out: S.zoneOut,
      createBody: zoneBody,
      patchBody: patchOf(zoneBody),
      list: () => store.listZones(),
      get: (id) => store.getZone(id),
      create: async (b) => ({ json: await store.createZone(b) }),
      update: (id, b) => store.updateZone(id, b),
      remove: (id) => store.deleteZone(id),
    }),
    ...crudRoutes<unknown, NewServer, ServerPatch>({
      plural: 'servers',
      singular: 'server',
      out: S.serverOut,
      createBody: serverBody,
      patchBody: patchOf(serverBody),
      list: () => store.listServers(),
      get: (id) => store.getServer(id),
      create: async (b) => {
        checkServerParams(b);
        await zoneMustExist(ctx, b.zoneId);
        return { json: await store.createServer(b) };
      },
      update: async (id, b) => {
        if (
          b.protocol !== undefined ||
          b.host !== undefined ||
          b.port !== undefined ||
          b.params !== undefined
        ) {
          const current = await store.getServer(id);
          if (!current) return null;
          checkServerParams({ ...current, ...b });
        }
        await zoneMustExist(ctx, b.zoneId);
        return store.updateServer(id, b);
      },
      remove: (id) => store.deleteServer(id),
    }),
    ...crudRoutes<ConnectionProxy, Omit<NewProxy, 'secretHash'>, ProxyPatch>({
      plural: 'proxies',
      singular: 'proxy',
      out: S.proxyOut,
      createOut: withSecret,
      createBody: proxyBody,
      patchBody: patchOf(proxyBody),
      list: () => store.listProxies(),
      get: (id) => store.getProxy(id),
      create: async (b) => {
        checkAddress(b.kind, b.address);
        await zoneMustExist(ctx, b.zoneId);
        const secret = randomSecret();
        const proxy = await store.createProxy({ ...b, secretHash: sha256Hex(secret) });
        return { json: { proxy, secret } };
      },
      update: async (id, b) => {
        const current = await store.getProxy(id);
        if (!current) return null;
        checkAddress(b.kind ?? current.kind, b.address);
        await zoneMustExist(ctx, b.zoneId);
        ctx.checker.forget?.(id);
        return store.updateProxy(id, b);
      },
      remove: (id) => store.deleteProxy(id),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/admin/proxies/{id}/secret',
      access: 'admin',
      tag: 'admin',
      summary: 'Make a new registration secret for a proxy (the old one stops working); shown once',
      responses: { 200: { description: 'The new secret', schema: withSecret }, ...S.errors(401, 403, 404) },
      async handler({ params }) {
        const secret = randomSecret();
        const proxy = await mapConflicts(() =>
          store.updateProxy(params.id as string, { secretHash: sha256Hex(secret) }),
        );
        if (!proxy) throw notFound('No such proxy');
        return { status: 200, json: { proxy, secret } };
      },
    }),
  ];
}
