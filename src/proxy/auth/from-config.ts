// The token redeemer the proxy's configuration asks for (proxyAuth section): reads key and CA files once,
// at start-up (synchronously), and reports a problem naming the configuration key. Call it once in the main
// thread before starting the connection managers, so that a bad section stops the proxy with a clear message
// instead of failing in every manager.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { defaultsOf } from '../../config/schema-node.js';
import {
  ADVERTISE_URL_PATTERN,
  type ProxyAuthConfig,
  proxyAuthSchema,
  publicKeyEntries,
  ZONE_MAX_CHARS,
  ZONE_PATTERN,
} from '../../config/sections/proxy-auth.js';
import type { TokenRedeemer } from '../types.js';
import { webappUrl } from './http-post.js';
import { KeyError, loadPublicKeys, parseEncryptionKey } from './keys.js';
import { SignedTokenRedeemer } from './signed.js';
import { WebappRedeemer } from './webapp.js';

/** A problem with the proxyAuth configuration, naming the key. */
export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError';
}

/** The bits of a logger used here (pino's Logger fits). */
interface InfoLog {
  info(obj: object, msg: string): void;
}

export interface RedeemerDeps {
  /** Single use across connection managers (main thread JtiRegistry); signed mode only. */
  claimOnce: (jti: string, expiresAtMs: number) => Promise<boolean>;
  /** Directory relative file names are resolved against; defaults to process.cwd(). */
  cwd?: string;
  /** Gets one start-up line saying the mode and the key ids (no secrets). */
  log?: InfoLog;
  now?: () => number;
}

export interface ConfiguredRedeemer extends TokenRedeemer {
  readonly mode: ProxyAuthConfig['mode'];
  /** Releases what the redeemer holds (the webapp connections). */
  close(): void;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const fileIn = (cwd: string | undefined, file: string): string =>
  isAbsolute(file) ? file : resolve(cwd ?? process.cwd(), file);

function signedRedeemer(config: ProxyAuthConfig, deps: RedeemerDeps): ConfiguredRedeemer {
  const s = config.signed;
  const entries = publicKeyEntries(s.publicKeys);
  if (entries.length === 0) {
    throw new AuthConfigError(
      'proxyAuth.signed.publicKeys is empty: signed mode needs at least one Ed25519 public key ' +
        "(create a pair with 'gatehouse token --generate-key DIR')",
    );
  }
  let publicKeys: ReturnType<typeof loadPublicKeys>;
  let encryptionKey: Uint8Array | undefined;
  try {
    publicKeys = loadPublicKeys(entries, {
      label: 'proxyAuth.signed.publicKeys',
      ...(deps.cwd !== undefined ? { cwd: deps.cwd } : {}),
    });
    if (s.encryptionKey !== '') {
      encryptionKey = parseEncryptionKey(s.encryptionKey, 'proxyAuth.signed.encryptionKey');
    }
  } catch (err) {
    if (err instanceof KeyError) throw new AuthConfigError(err.message);
    throw err;
  }
  const redeemer = new SignedTokenRedeemer({
    publicKeys,
    audience: s.audience,
    issuer: s.issuer || undefined,
    maxLifetimeSeconds: s.maxLifetimeSeconds,
    clockSkewSeconds: s.clockSkewSeconds,
    claimOnce: deps.claimOnce,
    encryptionKey,
    ...(deps.now !== undefined ? { now: deps.now } : {}),
  });
  deps.log?.info(
    { auth: { mode: 'signed', kids: publicKeys.map((k) => k.kid), encrypted: encryptionKey !== undefined } },
    `token auth: signed tokens, ${publicKeys.length} public key(s)`,
  );
  return { mode: 'signed', redeem: (t, c) => redeemer.redeem(t, c), close: () => {} };
}

/** The CA certificates of proxyAuth.webapp.caFile (PEM text), or undefined for the system store. */
export function webappCa(config: ProxyAuthConfig, cwd?: string): string | undefined {
  const w = config.webapp;
  if (w.caFile === '') return undefined;
  const path = fileIn(cwd, w.caFile);
  let ca: string;
  try {
    ca = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuthConfigError(`proxyAuth.webapp.caFile: cannot read ${path}: ${message(err)}`);
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new AuthConfigError(`proxyAuth.webapp.caFile: ${path} holds no PEM certificate`);
  }
  return ca;
}

function webappRedeemer(config: ProxyAuthConfig, deps: RedeemerDeps): ConfiguredRedeemer {
  const w = config.webapp;
  for (const key of ['url', 'proxyId', 'proxyToken'] as const) {
    if (w[key] === '') throw new AuthConfigError(`proxyAuth.webapp.${key} is required in webapp mode`);
  }
  const ca = webappCa(config, deps.cwd);
  let redeemer: WebappRedeemer;
  try {
    redeemer = new WebappRedeemer({
      url: w.url,
      proxyId: w.proxyId,
      proxyToken: w.proxyToken,
      timeoutMs: w.timeoutMs,
      ca,
      allowInsecureHttp: w.allowInsecureHttp,
    });
  } catch (err) {
    throw new AuthConfigError(`proxyAuth.webapp: ${message(err)}`);
  }
  deps.log?.info(
    { auth: { mode: 'webapp', url: w.url, proxyId: w.proxyId, privateCa: ca !== undefined } },
    `token auth: webapp callback to ${w.url}`,
  );
  return { mode: 'webapp', redeem: (t, c) => redeemer.redeem(t, c), close: () => redeemer.close() };
}

/** The redeemer for the proxyAuth section. Throws AuthConfigError naming the key at fault. */
export function createTokenRedeemer(config: ProxyAuthConfig, deps: RedeemerDeps): ConfiguredRedeemer {
  return config.mode === 'webapp' ? webappRedeemer(config, deps) : signedRedeemer(config, deps);
}

/** The proxyAuth section of a whole configuration, or its defaults when the schema has no such section. */
export function proxyAuthOf(config: object): ProxyAuthConfig {
  return (
    (config as { proxyAuth?: ProxyAuthConfig }).proxyAuth ??
    (defaultsOf(proxyAuthSchema) as unknown as ProxyAuthConfig)
  );
}

/** The redeemer for a whole configuration (GatehouseConfig): createTokenRedeemer on its proxyAuth section. */
export function createRedeemer(config: object, deps: RedeemerDeps): ConfiguredRedeemer {
  return createTokenRedeemer(proxyAuthOf(config), deps);
}

/**
 * Checks the proxyAuth section of a whole configuration the way the managers will use it (reads the key and
 * CA files), for the main thread at start-up. Throws AuthConfigError naming the key at fault.
 */
export function checkProxyAuthConfig(config: object, cwd?: string): void {
  createRedeemer(config, {
    claimOnce: () => Promise.resolve(false),
    ...(cwd !== undefined ? { cwd } : {}),
  }).close();
  registrationSettings(proxyAuthOf(config), cwd);
}

/** What the proxy's registration with the webapp needs (docs/proxy-auth.md, Registration). */
export interface RegistrationSettings {
  /** POST target: the origin of proxyAuth.webapp.url + REGISTER_PATH. */
  url: URL;
  proxyId: string;
  proxyToken: string;
  advertiseUrl: string;
  /** null when proxyAuth.webapp.zone is empty. */
  zone: string | null;
  timeoutMs: number;
  ca: string | undefined;
}

/** Where a proxy registers, relative to the origin of proxyAuth.webapp.url. */
export const REGISTER_PATH = '/api/proxy/register';

/**
 * The registration settings of a proxyAuth section, or null when proxyAuth.webapp.advertiseUrl is empty (no
 * registration). Throws AuthConfigError naming the key at fault: an advertiseUrl outside webapp mode, a bad
 * advertiseUrl or zone, a missing url/proxyId/proxyToken, an http:// url without allowInsecureHttp, a bad CA file.
 */
export function registrationSettings(config: ProxyAuthConfig, cwd?: string): RegistrationSettings | null {
  const w = config.webapp;
  if (w.advertiseUrl === '') return null;
  if (config.mode !== 'webapp') {
    throw new AuthConfigError(
      `proxyAuth.webapp.advertiseUrl is set, but registering with the webapp needs proxyAuth.mode webapp (it is ${config.mode}); clear advertiseUrl or switch the mode`,
    );
  }
  if (!new RegExp(ADVERTISE_URL_PATTERN).test(w.advertiseUrl)) {
    throw new AuthConfigError(
      `proxyAuth.webapp.advertiseUrl must be http(s)://HOST:PORT with nothing after the port, not ${JSON.stringify(w.advertiseUrl)}`,
    );
  }
  const host = new URL(w.advertiseUrl).hostname;
  if (host === '0.0.0.0' || host === '[::]') {
    throw new AuthConfigError(
      `proxyAuth.webapp.advertiseUrl: ${host} is a listen-on-all address, not one the webapp can reach; give this host's name or address`,
    );
  }
  if (!new RegExp(ZONE_PATTERN).test(w.zone)) {
    throw new AuthConfigError(
      `proxyAuth.webapp.zone must be at most ${ZONE_MAX_CHARS} characters without control characters`,
    );
  }
  for (const key of ['url', 'proxyId', 'proxyToken'] as const) {
    if (w[key] === '') throw new AuthConfigError(`proxyAuth.webapp.${key} is required in webapp mode`);
  }
  let url: URL;
  try {
    url = new URL(REGISTER_PATH, webappUrl(w.url, w.allowInsecureHttp).origin);
  } catch (err) {
    throw new AuthConfigError(`proxyAuth.webapp.url: ${message(err)}`);
  }
  return {
    url,
    proxyId: w.proxyId,
    proxyToken: w.proxyToken,
    advertiseUrl: w.advertiseUrl,
    zone: w.zone === '' ? null : w.zone,
    timeoutMs: w.timeoutMs,
    ca: webappCa(config, cwd),
  };
}
