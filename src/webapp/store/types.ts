/**
 * The webapp's data model and the store contract. One implementation (`SqlStore`) over two databases:
 * SQLite (better-sqlite3, default) and PostgreSQL (pg). Ids are UUID strings made by the application; times
 * are milliseconds since the epoch (numbers); secrets never leave the store in clear except where a method
 * says so (server credentials, decrypted for the proxy callback).
 */

export type Role = 'admin' | 'user';
export type ServerProtocol = 'rdp' | 'vnc' | 'ssh';
export type ProxyKind = 'guac' | 'rdp-gateway';

/** What a session may do. `true` = allowed. */
export interface DlpPolicy {
  clipboardUp: boolean; // browser/client -> remote (paste)
  clipboardDown: boolean; // remote -> browser/client (copy)
  download: boolean;
  upload: boolean;
  audio: boolean;
  printing: boolean;
  drives: boolean;
  smartCard: boolean;
  usb: boolean;
  webcam: boolean;
}
export const DLP_KEYS = [
  'clipboardUp',
  'clipboardDown',
  'download',
  'upload',
  'audio',
  'printing',
  'drives',
  'smartCard',
  'usb',
  'webcam',
] as const satisfies readonly (keyof DlpPolicy)[];

/** A partial policy: keys left out do not restrict (servers) / are not granted beyond the default (groups). */
export type DlpSettings = Partial<DlpPolicy>;

export interface User {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  disabled: boolean;
  createdAt: number;
}
export interface UserWithHash extends User {
  passwordHash: string;
}

export interface Group {
  id: string;
  name: string;
  dlp: DlpSettings;
  memberIds: string[];
  createdAt: number;
}

export interface Zone {
  id: string;
  name: string;
  /** connect may fall back to proxies of other zones when none of this zone's is healthy. */
  searchAlternateZones: boolean;
  createdAt: number;
}

export interface ServerCredentials {
  username?: string | undefined;
  password?: string | undefined;
  domain?: string | undefined;
}

export interface Server {
  id: string;
  name: string;
  protocol: ServerProtocol;
  host: string;
  port: number;
  zoneId: string;
  /** Extra connection parameters by guacd name (string values), e.g. {"color-depth": "16"}. */
  params: Record<string, string>;
  /** Restrictions for every session to this server (AND with the user's groups). */
  dlp: DlpSettings;
  /** Users and groups allowed to use it. */
  userIds: string[];
  groupIds: string[];
  /** Whether credentials are stored (they are never returned by list/get). */
  hasCredentials: boolean;
  createdAt: number;
}

export interface ProxyHealth {
  ok: boolean;
  at: number;
  detail?: string | undefined;
}

export interface ConnectionProxy {
  id: string;
  /** Unique name; also the `proxyId` the proxy is configured with. */
  name: string;
  zoneId: string;
  kind: ProxyKind;
  /** Base URL the webapp reaches it at: http(s)://host:port for guac, host:port for rdp-gateway. */
  address: string;
  enabled: boolean;
  lastHealth: ProxyHealth | null;
  registeredAt: number | null;
  createdAt: number;
}

export type TokenKind = 'tunnel' | 'rdp';

export interface AccessToken {
  /** SHA-256 (hex) of the token text; the text itself is never stored. */
  hash: string;
  kind: TokenKind;
  userId: string;
  serverId: string;
  proxyId: string;
  /** The login session it was issued to (tunnel tokens), null for .rdp files. */
  webSessionId: string | null;
  createdAt: number;
  expiresAt: number;
  redeemedAt: number | null;
  /** Session (audit) row created by the first redeem. */
  sessionId: string | null;
}

export type RedeemOutcome =
  | { ok: true; token: AccessToken; sessionId: string; replay: boolean }
  | { ok: false; reason: 'unknown' | 'expired' | 'used' | 'wrong-proxy' };

export interface SessionRecord {
  id: string;
  userId: string;
  serverId: string;
  proxyId: string;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
  bytesUp: number;
  bytesDown: number;
  clientAddress: string | null;
}

export interface WebSession {
  /** SHA-256 (hex) of the cookie value. */
  id: string;
  userId: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
}

/** Thrown for unique-name clashes and dangling references; the API maps it to 409 / 400. */
export class StoreConflictError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

export type NewUser = {
  username: string;
  displayName?: string;
  role: Role;
  passwordHash: string;
  disabled?: boolean;
};
export type UserPatch = Partial<{ displayName: string; role: Role; disabled: boolean; passwordHash: string }>;
export type NewGroup = { name: string; dlp?: DlpSettings; memberIds?: string[] };
export type GroupPatch = Partial<{ name: string; dlp: DlpSettings; memberIds: string[] }>;
export type NewZone = { name: string; searchAlternateZones?: boolean };
export type ZonePatch = Partial<{ name: string; searchAlternateZones: boolean }>;
export type NewServer = {
  name: string;
  protocol: ServerProtocol;
  host: string;
  port: number;
  zoneId: string;
  params?: Record<string, string>;
  dlp?: DlpSettings;
  userIds?: string[];
  groupIds?: string[];
  credentials?: ServerCredentials | null;
};
export type ServerPatch = Partial<Omit<NewServer, 'credentials'>> & {
  credentials?: ServerCredentials | null;
};
export type NewProxy = {
  name: string;
  zoneId: string;
  kind: ProxyKind;
  address?: string;
  enabled?: boolean;
  secretHash: string;
};
export type ProxyPatch = Partial<{
  name: string;
  zoneId: string;
  kind: ProxyKind;
  address: string;
  enabled: boolean;
  secretHash: string;
}>;

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  close(): Promise<void>;

  // users
  createUser(u: NewUser): Promise<User>;
  getUser(id: string): Promise<User | null>;
  getUserByUsername(username: string): Promise<UserWithHash | null>;
  listUsers(): Promise<User[]>;
  updateUser(id: string, patch: UserPatch): Promise<User | null>;
  deleteUser(id: string): Promise<boolean>;
  countAdmins(): Promise<number>;

  // groups
  createGroup(g: NewGroup): Promise<Group>;
  getGroup(id: string): Promise<Group | null>;
  listGroups(): Promise<Group[]>;
  updateGroup(id: string, patch: GroupPatch): Promise<Group | null>;
  deleteGroup(id: string): Promise<boolean>;
  /** DLP settings of every group the user belongs to. */
  groupPoliciesOfUser(userId: string): Promise<DlpSettings[]>;

  // zones
  createZone(z: NewZone): Promise<Zone>;
  getZone(id: string): Promise<Zone | null>;
  getZoneByName(name: string): Promise<Zone | null>;
  listZones(): Promise<Zone[]>;
  updateZone(id: string, patch: ZonePatch): Promise<Zone | null>;
  /** Refused (StoreConflictError) while servers or proxies use the zone. */
  deleteZone(id: string): Promise<boolean>;

  // servers
  createServer(s: NewServer): Promise<Server>;
  getServer(id: string): Promise<Server | null>;
  listServers(): Promise<Server[]>;
  /** Servers granted to the user directly or through one of their groups. */
  listServersForUser(userId: string): Promise<Server[]>;
  mayUseServer(userId: string, serverId: string): Promise<boolean>;
  updateServer(id: string, patch: ServerPatch): Promise<Server | null>;
  deleteServer(id: string): Promise<boolean>;
  /** Decrypted credentials (for the proxy callback only), null when none are stored. */
  getServerCredentials(id: string): Promise<ServerCredentials | null>;

  // connection proxies
  createProxy(p: NewProxy): Promise<ConnectionProxy>;
  getProxy(id: string): Promise<ConnectionProxy | null>;
  getProxyByName(name: string): Promise<(ConnectionProxy & { secretHash: string }) | null>;
  listProxies(): Promise<ConnectionProxy[]>;
  /** Enabled proxies of a kind, in a zone (or in every zone but this one when `exceptZone`). */
  listEnabledProxies(kind: ProxyKind, zoneId: string, exceptZone?: boolean): Promise<ConnectionProxy[]>;
  updateProxy(id: string, patch: ProxyPatch): Promise<ConnectionProxy | null>;
  deleteProxy(id: string): Promise<boolean>;
  setProxyHealth(id: string, health: ProxyHealth): Promise<void>;
  markProxyRegistered(id: string, address: string, at: number): Promise<void>;

  // access tokens (one-time)
  createToken(t: Omit<AccessToken, 'redeemedAt' | 'sessionId'>): Promise<void>;
  getToken(hash: string): Promise<AccessToken | null>;
  /**
   * Redeems atomically: the first redeem (before expiresAt, by the proxy the token is bound to) creates the
   * session row and returns it; a repeat by the same proxy within `replayWindowMs` of the first redeem
   * returns the same session with replay=true; anything else is refused with the reason.
   */
  redeemToken(
    hash: string,
    proxyId: string,
    now: number,
    replayWindowMs: number,
    clientAddress: string | null,
  ): Promise<RedeemOutcome>;
  deleteExpiredTokens(before: number): Promise<number>;

  // sessions (audit)
  getSession(id: string): Promise<SessionRecord | null>;
  listSessions(opts: { activeOnly: boolean; limit: number }): Promise<SessionRecord[]>;
  endSession(id: string, at: number, reason: string, bytesUp: number, bytesDown: number): Promise<boolean>;
  /** Ends every session still open (webapp start-up: relays of a previous process are gone). */
  endOpenSessions(at: number, reason: string): Promise<number>;

  // login sessions
  createWebSession(s: WebSession): Promise<void>;
  getWebSession(id: string): Promise<WebSession | null>;
  touchWebSession(id: string, lastSeenAt: number, expiresAt: number): Promise<void>;
  deleteWebSession(id: string): Promise<void>;
  deleteWebSessionsOfUser(userId: string): Promise<void>;
  deleteExpiredWebSessions(before: number): Promise<number>;
}
