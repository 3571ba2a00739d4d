// `gatehouse token`: mint a signed connection token for a target (for admins and tests), or create the
// Ed25519 key pair that signs them (--generate-key DIR). See docs/proxy-auth.md.
import { closeSync, constants, fchmodSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ProxyAuthConfig } from '../../config/sections/proxy-auth.js';
import type { OptionValues } from '../args.js';
import { EXIT, type Io, USAGE_HINT } from '../io.js';
import { loadConfigForCli } from '../load-config.js';
import type { OptionSpec } from '../options.js';
import { buildTarget, OptionError, parsePolicy, parseSeconds } from './token-input.js';
import type { Command } from './types.js';

/** Environment variable holding the signing key itself (PEM or JWK text) when --key is not given. */
export const TOKEN_KEY_VARIABLE = 'GATEHOUSE_TOKEN_KEY';
export const PRIVATE_KEY_FILE = 'token-private.pem';
export const PUBLIC_KEY_FILE = 'token-public.pem';
/** Longest --ttl accepted (the proxy refuses more than its proxyAuth.signed.maxLifetimeSeconds anyway). */
export const MAX_TTL_SECONDS = 86_400;

const MINT_OPTIONS = [
  'key',
  'target',
  'param',
  'policy',
  'guacd',
  'user',
  'ttl',
  'audience',
  'issuer',
  'kid',
  'encryption-key',
] as const;

const options: OptionSpec[] = [
  {
    name: 'key',
    type: 'string',
    valueName: 'FILE',
    help: `Ed25519 private key, PEM or JWK (or env ${TOKEN_KEY_VARIABLE})`,
  },
  {
    name: 'target',
    type: 'string',
    valueName: 'URL',
    help: 'PROTOCOL://HOST[:PORT], e.g. vnc://10.0.0.5:5900',
  },
  {
    name: 'param',
    type: 'string',
    multiple: true,
    valueName: 'NAME=VALUE',
    help: 'connection parameter, e.g. password=... (repeatable)',
  },
  {
    name: 'policy',
    type: 'string',
    valueName: 'LIST',
    help: 'read-only,disable-copy,disable-paste,disable-download,disable-upload',
  },
  {
    name: 'guacd',
    type: 'string',
    valueName: 'guacd://HOST:PORT',
    help: 'use this external guacd instead of the built-in engine',
  },
  { name: 'user', type: 'string', valueName: 'NAME', help: 'the user (sub claim), for the proxy logs' },
  {
    name: 'ttl',
    type: 'string',
    valueName: 'SECONDS',
    help: 'seconds until the token expires (default 300 or the configured maximum)',
  },
  {
    name: 'audience',
    type: 'string',
    valueName: 'AUD',
    help: 'aud claim (default proxyAuth.signed.audience: gatehouse-proxy)',
  },
  {
    name: 'issuer',
    type: 'string',
    valueName: 'ISS',
    help: 'iss claim (default proxyAuth.signed.issuer, if set)',
  },
  {
    name: 'kid',
    type: 'string',
    valueName: 'KID',
    help: "key id header (default: the JWK's kid or the key's RFC 7638 thumbprint)",
  },
  {
    name: 'encryption-key',
    type: 'string',
    valueName: 'FILE',
    help: 'wrap in a JWE (dir, A256GCM) with this 32-byte base64 secret',
  },
  {
    name: 'generate-key',
    type: 'string',
    valueName: 'DIR',
    help: `write a new key pair: DIR/${PRIVATE_KEY_FILE} (0600), DIR/${PUBLIC_KEY_FILE}`,
  },
];

const usage = (io: Io, message: string): number => {
  io.err(`gatehouse: ${message}\n${USAGE_HINT}\n`);
  return EXIT.USAGE;
};

const str = (values: OptionValues, name: string): string | undefined => {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
};

const pathIn = (io: Io, file: string): string => (isAbsolute(file) ? file : resolve(io.cwd, file));

function readOption(io: Io, option: string, file: string): string {
  const path = pathIn(io, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new OptionError(
      option,
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** Writes a new file (never replacing one) with exactly `mode`. */
function writeNew(path: string, text: string, mode: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

async function generate(io: Io, dirOption: string): Promise<number> {
  const { generateSigningKeyPair } = await import('../../proxy/auth/keys.js');
  const dir = pathIn(io, dirOption);
  const pair = generateSigningKeyPair();
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeNew(privatePath, pair.privatePem, 0o600);
    writeNew(publicPath, pair.publicPem, 0o644);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') {
      return usage(io, `invalid value for --generate-key: ${e.path ?? dir} exists already (not replaced)`);
    }
    io.err(`gatehouse: cannot write the key pair in ${dir}: ${e.code ?? ''} ${e.message}\n`);
    return EXIT.FAILURE;
  }
  io.out(
    `private key: ${privatePath} (mode 0600; keep it secret)\npublic key:  ${publicPath}\nkid:         ${pair.kid}\n`,
  );
  return EXIT.OK;
}

/** The configuration's proxyAuth section, when this build's schema has one. */
function authConfig(config: object): ProxyAuthConfig | undefined {
  return (config as { proxyAuth?: ProxyAuthConfig }).proxyAuth;
}

async function mint(values: OptionValues, io: Io): Promise<number> {
  const { parseEncryptionKey, parsePrivateKey, KeyError } = await import('../../proxy/auth/keys.js');
  const { mintToken } = await import('../../proxy/auth/mint.js');
  let token: string;
  try {
    const targetValue = str(values, 'target');
    if (targetValue === undefined) return usage(io, 'missing --target (e.g. --target vnc://10.0.0.5:5900)');
    const params = Array.isArray(values.param) ? values.param : [];
    const guacd = str(values, 'guacd');
    const target = buildTarget({ target: targetValue, params, ...(guacd !== undefined ? { guacd } : {}) });
    const policyValue = str(values, 'policy');
    const policy = policyValue !== undefined ? parsePolicy(policyValue) : {};

    const keyFile = str(values, 'key');
    const keyText = keyFile !== undefined ? readOption(io, 'key', keyFile) : io.env[TOKEN_KEY_VARIABLE];
    if (keyText === undefined || keyText === '') {
      return usage(io, `no signing key: give --key FILE or set ${TOKEN_KEY_VARIABLE}`);
    }
    let signing: ReturnType<typeof parsePrivateKey>;
    try {
      signing = parsePrivateKey(keyText, keyFile !== undefined ? pathIn(io, keyFile) : TOKEN_KEY_VARIABLE);
    } catch (err) {
      if (err instanceof KeyError) throw new OptionError('key', err.message);
      throw err;
    }

    // The configuration supplies defaults matching the local proxy. The key variable is not a config key.
    const env = { ...io.env };
    delete env[TOKEN_KEY_VARIABLE];
    const loaded = await loadConfigForCli(values, { ...io, env });
    if (loaded === undefined) return EXIT.USAGE;
    const signedConfig = authConfig(loaded.config)?.signed;
    const maxLifetime = signedConfig?.maxLifetimeSeconds ?? 300;

    const ttlValue = str(values, 'ttl');
    const ttl =
      ttlValue !== undefined ? parseSeconds('ttl', ttlValue, MAX_TTL_SECONDS) : Math.min(300, maxLifetime);
    if (ttl > maxLifetime) {
      io.err(
        `gatehouse: warning: --ttl ${ttl} is over proxyAuth.signed.maxLifetimeSeconds (${maxLifetime}); ` +
          'a proxy with this configuration will refuse the token\n',
      );
    }
    const audience = str(values, 'audience') ?? signedConfig?.audience ?? 'gatehouse-proxy';
    if (audience === '') throw new OptionError('audience', 'empty');
    const issuer = str(values, 'issuer') ?? (signedConfig?.issuer || undefined);
    const kid = str(values, 'kid') ?? signing.kid;
    if (kid === '') throw new OptionError('kid', 'empty');

    const encFile = str(values, 'encryption-key');
    let encryptionKey: Uint8Array | undefined;
    try {
      if (encFile !== undefined) {
        encryptionKey = parseEncryptionKey(readOption(io, 'encryption-key', encFile), pathIn(io, encFile));
      } else if (signedConfig?.encryptionKey) {
        encryptionKey = parseEncryptionKey(signedConfig.encryptionKey, 'proxyAuth.signed.encryptionKey');
      }
    } catch (err) {
      if (err instanceof KeyError) throw new OptionError('encryption-key', err.message);
      throw err;
    }
    const user = str(values, 'user');
    try {
      token = await mintToken({
        privateKey: signing.key,
        kid,
        target,
        policy,
        ttlSeconds: ttl,
        audience,
        ...(issuer !== undefined ? { issuer } : {}),
        ...(user !== undefined ? { user } : {}),
        ...(encryptionKey !== undefined ? { encryptionKey } : {}),
      });
    } catch (err) {
      if (err instanceof TypeError) return usage(io, err.message);
      throw err;
    }
  } catch (err) {
    if (err instanceof OptionError) return usage(io, err.message);
    throw err;
  }
  io.out(`${token}\n`);
  return EXIT.OK;
}

export const tokenCommand: Command = {
  name: 'token',
  summary: 'mint a signed connection token for a target, or create a signing key pair',
  description:
    'Prints a signed token (an Ed25519 JWT, alg EdDSA) that a proxy in signed mode redeems once for one\n' +
    'session to --target with the given parameters and policy. The signing key comes from --key FILE or\n' +
    `the ${TOKEN_KEY_VARIABLE} variable (PEM or JWK text). Audience, issuer, lifetime and the JWE secret default\n` +
    "to the proxyAuth.signed configuration, so a token minted with the proxy's configuration is accepted by it.\n" +
    `--generate-key DIR writes a new key pair (${PRIVATE_KEY_FILE}, mode 0600, and ${PUBLIC_KEY_FILE}) and prints\n` +
    'its kid; put the public key in proxyAuth.signed.publicKeys. See docs/proxy-auth.md.\n\n' +
    'Example: gatehouse token --key token-private.pem --target vnc://10.0.0.5:5900 --param password=secret \\\n' +
    '           --policy read-only,disable-copy --user alice --ttl 60',
  options,
  available: true,
  async run({ values, io }) {
    const dir = str(values, 'generate-key');
    if (dir !== undefined) {
      const other = MINT_OPTIONS.find((o) => values[o] !== undefined);
      if (other !== undefined) return usage(io, `--generate-key cannot be combined with --${other}`);
      if (dir === '') return usage(io, 'invalid value for --generate-key: empty');
      return generate(io, dir);
    }
    return mint(values, io);
  },
};
