/**
 * The webapp's schema, as migrations. Portable types only: TEXT ids (UUIDs made by the application),
 * BIGINT times in ms since the epoch, INTEGER 0/1 flags, JSON as TEXT. Constraints are named so
 * PostgreSQL's errors say which one failed.
 *
 * Deleting a user, group or server removes what hangs off it (grants, memberships, login sessions,
 * unredeemed tokens); zones cannot be deleted while servers or proxies use them; the audit table
 * `sessions` has no foreign keys, so its rows outlive the users, servers and proxies they name.
 */
import type { Migration } from './migrate.js';

const INITIAL = `
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL CONSTRAINT ck_users_role CHECK (role IN ('admin', 'user')),
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  CONSTRAINT uq_users_username UNIQUE (username)
);

CREATE TABLE groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  dlp TEXT NOT NULL DEFAULT '{}',
  created_at BIGINT NOT NULL,
  CONSTRAINT uq_groups_name UNIQUE (name)
);

CREATE TABLE group_members (
  group_id TEXT NOT NULL CONSTRAINT fk_group_members_group REFERENCES groups (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL CONSTRAINT fk_group_members_user REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX ix_group_members_user ON group_members (user_id, group_id);

CREATE TABLE zones (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  search_alternate_zones INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  CONSTRAINT uq_zones_name UNIQUE (name)
);

CREATE TABLE servers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  protocol TEXT NOT NULL CONSTRAINT ck_servers_protocol CHECK (protocol IN ('rdp', 'vnc', 'ssh')),
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  zone_id TEXT NOT NULL CONSTRAINT fk_servers_zone REFERENCES zones (id) ON DELETE RESTRICT,
  params TEXT NOT NULL DEFAULT '{}',
  dlp TEXT NOT NULL DEFAULT '{}',
  credentials TEXT,
  created_at BIGINT NOT NULL,
  CONSTRAINT uq_servers_name UNIQUE (name)
);
CREATE INDEX ix_servers_zone ON servers (zone_id);

CREATE TABLE server_users (
  server_id TEXT NOT NULL CONSTRAINT fk_server_users_server REFERENCES servers (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL CONSTRAINT fk_server_users_user REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (server_id, user_id)
);
CREATE INDEX ix_server_users_user ON server_users (user_id, server_id);

CREATE TABLE server_groups (
  server_id TEXT NOT NULL CONSTRAINT fk_server_groups_server REFERENCES servers (id) ON DELETE CASCADE,
  group_id TEXT NOT NULL CONSTRAINT fk_server_groups_group REFERENCES groups (id) ON DELETE CASCADE,
  PRIMARY KEY (server_id, group_id)
);
CREATE INDEX ix_server_groups_group ON server_groups (group_id, server_id);

CREATE TABLE proxies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  zone_id TEXT NOT NULL CONSTRAINT fk_proxies_zone REFERENCES zones (id) ON DELETE RESTRICT,
  kind TEXT NOT NULL CONSTRAINT ck_proxies_kind CHECK (kind IN ('guac', 'rdp-gateway')),
  address TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1,
  secret_hash TEXT NOT NULL,
  health_ok INTEGER,
  health_at BIGINT,
  health_detail TEXT,
  registered_at BIGINT,
  created_at BIGINT NOT NULL,
  CONSTRAINT uq_proxies_name UNIQUE (name)
);
CREATE INDEX ix_proxies_enabled ON proxies (kind, zone_id) WHERE enabled = 1;
CREATE INDEX ix_proxies_zone ON proxies (zone_id);

CREATE TABLE web_sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL CONSTRAINT fk_web_sessions_user REFERENCES users (id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);
CREATE INDEX ix_web_sessions_user ON web_sessions (user_id);
CREATE INDEX ix_web_sessions_expires ON web_sessions (expires_at);

CREATE TABLE access_tokens (
  hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CONSTRAINT ck_access_tokens_kind CHECK (kind IN ('tunnel', 'rdp')),
  user_id TEXT NOT NULL CONSTRAINT fk_access_tokens_user REFERENCES users (id) ON DELETE CASCADE,
  server_id TEXT NOT NULL CONSTRAINT fk_access_tokens_server REFERENCES servers (id) ON DELETE CASCADE,
  proxy_id TEXT NOT NULL CONSTRAINT fk_access_tokens_proxy REFERENCES proxies (id) ON DELETE CASCADE,
  web_session_id TEXT CONSTRAINT fk_access_tokens_web_session REFERENCES web_sessions (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  redeemed_at BIGINT,
  session_id TEXT
);
CREATE INDEX ix_access_tokens_expires ON access_tokens (expires_at);
CREATE INDEX ix_access_tokens_user ON access_tokens (user_id);
CREATE INDEX ix_access_tokens_server ON access_tokens (server_id);
CREATE INDEX ix_access_tokens_proxy ON access_tokens (proxy_id);
CREATE INDEX ix_access_tokens_web_session ON access_tokens (web_session_id);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  server_id TEXT NOT NULL,
  proxy_id TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  end_reason TEXT,
  bytes_up BIGINT NOT NULL DEFAULT 0,
  bytes_down BIGINT NOT NULL DEFAULT 0,
  client_address TEXT
);
CREATE INDEX ix_sessions_started ON sessions (started_at);
CREATE INDEX ix_sessions_open ON sessions (started_at) WHERE ended_at IS NULL;
`;

/** Every migration, oldest first. Append only; never edit one that has been released. */
export const MIGRATIONS: readonly Migration[] = [{ id: '0001-initial', sql: INITIAL }];
