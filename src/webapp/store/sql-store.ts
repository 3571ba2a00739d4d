/**
 * The Store over SQL: SQLite (default) or PostgreSQL, one schema, the same queries. The entity modules in
 * ./sql/ hold the queries; this class binds them to one driver and secret box.
 */
import type { SqlDriver } from '../db/driver.js';
import { applyMigrations } from '../db/migrate.js';
import { MIGRATIONS } from '../db/migrations.js';
import { describeDatabase, type OpenDriverOptions, openDriver } from '../db/open.js';
import type { SecretBox } from '../security/secret-box.js';
import * as groups from './sql/groups.js';
import * as proxies from './sql/proxies.js';
import * as servers from './sql/servers.js';
import * as sessions from './sql/sessions.js';
import * as tokens from './sql/tokens.js';
import * as users from './sql/users.js';
import * as zones from './sql/zones.js';
import type {
  AccessToken,
  ConnectionProxy,
  DlpSettings,
  Group,
  GroupPatch,
  NewGroup,
  NewProxy,
  NewServer,
  NewUser,
  NewZone,
  ProxyHealth,
  ProxyKind,
  ProxyPatch,
  RedeemOutcome,
  Server,
  ServerCredentials,
  ServerPatch,
  SessionRecord,
  Store,
  User,
  UserPatch,
  UserWithHash,
  WebSession,
  Zone,
  ZonePatch,
} from './types.js';

type ProxyWithSecret = ConnectionProxy & { secretHash: string };

export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';

  constructor(
    /** The driver; exposed for maintenance and tests (raw reads), not for the application. */
    readonly db: SqlDriver,
    private readonly box: SecretBox,
  ) {
    this.dialect = db.dialect;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // users
  createUser = (u: NewUser): Promise<User> => users.createUser(this.db, u);
  getUser = (id: string): Promise<User | null> => users.getUser(this.db, id);
  getUserByUsername = (name: string): Promise<UserWithHash | null> => users.getUserByUsername(this.db, name);
  listUsers = (): Promise<User[]> => users.listUsers(this.db);
  updateUser = (id: string, patch: UserPatch): Promise<User | null> => users.updateUser(this.db, id, patch);
  deleteUser = (id: string): Promise<boolean> => users.deleteUser(this.db, id);
  countAdmins = (): Promise<number> => users.countAdmins(this.db);

  // groups
  createGroup = (g: NewGroup): Promise<Group> => groups.createGroup(this.db, g);
  getGroup = (id: string): Promise<Group | null> => groups.getGroup(this.db, id);
  listGroups = (): Promise<Group[]> => groups.listGroups(this.db);
  updateGroup = (id: string, patch: GroupPatch): Promise<Group | null> =>
    groups.updateGroup(this.db, id, patch);
  deleteGroup = (id: string): Promise<boolean> => groups.deleteGroup(this.db, id);
  groupPoliciesOfUser = (userId: string): Promise<DlpSettings[]> =>
    groups.groupPoliciesOfUser(this.db, userId);

  // zones
  createZone = (z: NewZone): Promise<Zone> => zones.createZone(this.db, z);
  getZone = (id: string): Promise<Zone | null> => zones.getZone(this.db, id);
  getZoneByName = (name: string): Promise<Zone | null> => zones.getZoneByName(this.db, name);
  listZones = (): Promise<Zone[]> => zones.listZones(this.db);
  updateZone = (id: string, patch: ZonePatch): Promise<Zone | null> => zones.updateZone(this.db, id, patch);
  deleteZone = (id: string): Promise<boolean> => zones.deleteZone(this.db, id);

  // servers
  createServer = (s: NewServer): Promise<Server> => servers.createServer(this.db, this.box, s);
  getServer = (id: string): Promise<Server | null> => servers.getServer(this.db, id);
  listServers = (): Promise<Server[]> => servers.listServers(this.db);
  listServersForUser = (userId: string): Promise<Server[]> => servers.listServersForUser(this.db, userId);
  mayUseServer = (userId: string, serverId: string): Promise<boolean> =>
    servers.mayUseServer(this.db, userId, serverId);
  updateServer = (id: string, patch: ServerPatch): Promise<Server | null> =>
    servers.updateServer(this.db, this.box, id, patch);
  deleteServer = (id: string): Promise<boolean> => servers.deleteServer(this.db, id);
  getServerCredentials = (id: string): Promise<ServerCredentials | null> =>
    servers.getServerCredentials(this.db, this.box, id);

  // connection proxies
  createProxy = (p: NewProxy): Promise<ConnectionProxy> => proxies.createProxy(this.db, p);
  getProxy = (id: string): Promise<ConnectionProxy | null> => proxies.getProxy(this.db, id);
  getProxyByName = (name: string): Promise<ProxyWithSecret | null> => proxies.getProxyByName(this.db, name);
  listProxies = (): Promise<ConnectionProxy[]> => proxies.listProxies(this.db);
  listEnabledProxies = (kind: ProxyKind, zoneId: string, exceptZone?: boolean): Promise<ConnectionProxy[]> =>
    proxies.listEnabledProxies(this.db, kind, zoneId, exceptZone);
  updateProxy = (id: string, patch: ProxyPatch): Promise<ConnectionProxy | null> =>
    proxies.updateProxy(this.db, id, patch);
  deleteProxy = (id: string): Promise<boolean> => proxies.deleteProxy(this.db, id);
  setProxyHealth = (id: string, health: ProxyHealth): Promise<void> =>
    proxies.setProxyHealth(this.db, id, health);
  markProxyRegistered = (id: string, address: string, at: number): Promise<void> =>
    proxies.markProxyRegistered(this.db, id, address, at);

  // access tokens
  createToken = (t: Omit<AccessToken, 'redeemedAt' | 'sessionId'>): Promise<void> =>
    tokens.createToken(this.db, t);
  getToken = (hash: string): Promise<AccessToken | null> => tokens.getToken(this.db, hash);
  redeemToken = (
    hash: string,
    proxyId: string,
    now: number,
    replayWindowMs: number,
    clientAddress: string | null,
  ): Promise<RedeemOutcome> => tokens.redeemToken(this.db, hash, proxyId, now, replayWindowMs, clientAddress);
  deleteExpiredTokens = (before: number): Promise<number> => tokens.deleteExpiredTokens(this.db, before);

  // sessions (audit)
  getSession = (id: string): Promise<SessionRecord | null> => sessions.getSession(this.db, id);
  listSessions = (opts: { activeOnly: boolean; limit: number }): Promise<SessionRecord[]> =>
    sessions.listSessions(this.db, opts);
  endSession = (
    id: string,
    at: number,
    reason: string,
    bytesUp: number,
    bytesDown: number,
  ): Promise<boolean> => sessions.endSession(this.db, id, at, reason, bytesUp, bytesDown);
  endOpenSessions = (at: number, reason: string): Promise<number> =>
    sessions.endOpenSessions(this.db, at, reason);

  // login sessions
  createWebSession = (s: WebSession): Promise<void> => sessions.createWebSession(this.db, s);
  getWebSession = (id: string): Promise<WebSession | null> => sessions.getWebSession(this.db, id);
  touchWebSession = (id: string, lastSeenAt: number, expiresAt: number): Promise<void> =>
    sessions.touchWebSession(this.db, id, lastSeenAt, expiresAt);
  deleteWebSession = (id: string): Promise<void> => sessions.deleteWebSession(this.db, id);
  deleteWebSessionsOfUser = (userId: string): Promise<void> =>
    sessions.deleteWebSessionsOfUser(this.db, userId);
  deleteExpiredWebSessions = (before: number): Promise<number> =>
    sessions.deleteExpiredWebSessions(this.db, before);
}

export interface OpenStoreOptions extends OpenDriverOptions {
  /** `webapp.database`: '' = SQLite in dataDir, a file path, or a postgres:// URL. */
  database: string;
  dataDir: string;
  secretBox: SecretBox;
}

/** Opens the database, applies pending migrations, and returns the store. */
export async function openStore(opts: OpenStoreOptions): Promise<SqlStore> {
  const db = await openDriver(opts.database, opts.dataDir, opts);
  try {
    await applyMigrations(db, MIGRATIONS);
  } catch (err) {
    await db.close().catch(() => {});
    const text = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot prepare the ${describeDatabase(opts.database, opts.dataDir)}: ${text}`, {
      cause: err,
    });
  }
  return new SqlStore(db, opts.secretBox);
}
