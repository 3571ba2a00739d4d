// First start of a single-server install: an initial administrator (password printed once, or taken from
// GATEHOUSE_ADMIN_PASSWORD), a default zone, and the local connection proxy registered in it with a secret kept
// in the data directory (mode 0600) for the proxy role of the same process.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { hashPassword } from './security/passwords.js';
import { randomSecret, sha256Hex } from './security/tokens.js';
import type { Store } from './store/types.js';

export const DEFAULT_ZONE = 'default';
export const LOCAL_PROXY = 'local';

/** Creates the first admin when there are no users; returns the password made (to print once) or null. */
export async function ensureInitialAdmin(
  store: Store,
  log: Logger,
  env = process.env,
): Promise<string | null> {
  if ((await store.listUsers()).length > 0) return null;
  const given = env.GATEHOUSE_ADMIN_PASSWORD;
  const useGiven = given !== undefined && given.length >= 8;
  if (given && !useGiven)
    log.warn('GATEHOUSE_ADMIN_PASSWORD is shorter than 8 characters: ignored, a password is made instead');
  const password = useGiven ? given : randomSecret().slice(0, 20);
  await store.createUser({
    username: 'admin',
    displayName: 'Administrator',
    role: 'admin',
    passwordHash: await hashPassword(password),
  });
  log.warn({ username: 'admin' }, 'created the initial administrator "admin"');
  return useGiven ? null : password;
}

export async function ensureDefaultZone(store: Store): Promise<string> {
  const zone = (await store.getZoneByName(DEFAULT_ZONE)) ?? (await store.createZone({ name: DEFAULT_ZONE }));
  return zone.id;
}

/**
 * The local proxy record (kind guac, in the default zone unless it exists elsewhere) with its address, and
 * its secret: read from <dataDir>/local-proxy.secret, or made (and the record's hash replaced) when the file
 * is missing or does not match.
 */
export async function ensureLocalProxy(
  store: Store,
  dataDir: string,
  address: string,
): Promise<{ name: string; secret: string; zone: string }> {
  const file = join(dataDir, 'local-proxy.secret');
  let secret = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  const existing = await store.getProxyByName(LOCAL_PROXY);
  if (!existing) {
    const zoneId = await ensureDefaultZone(store);
    if (!secret) secret = randomSecret();
    const p = await store.createProxy({
      name: LOCAL_PROXY,
      zoneId,
      kind: 'guac',
      address,
      secretHash: sha256Hex(secret),
    });
    await store.markProxyRegistered(p.id, address, Date.now());
  } else {
    if (!secret || sha256Hex(secret) !== existing.secretHash) {
      secret = randomSecret();
      await store.updateProxy(existing.id, { secretHash: sha256Hex(secret) });
    }
    await store.markProxyRegistered(existing.id, address, Date.now());
  }
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  const record = await store.getProxyByName(LOCAL_PROXY);
  const zone = record ? await store.getZone(record.zoneId) : null;
  return { name: LOCAL_PROXY, secret, zone: zone?.name ?? DEFAULT_ZONE };
}
