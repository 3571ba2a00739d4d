// `gatehouse all`: the single-server install (what `npm start` runs): the proxy role (front end, connection
// managers, built-in engines) and the engine role (guacd-compatible listener) in one process, until SIGTERM or
// SIGINT. The webapp role joins when it exists. With signed tokens and no public key configured, a key pair is
// made once under .gatehouse/token-keys/ so the install works out of the box (tokens: `gatehouse token`).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveClusterSize } from '../../config/sections/proxy.js';
import { detectCodec } from '../codec.js';
import { EXIT } from '../io.js';
import { loadConfigForCli } from '../load-config.js';
import { nextSignal } from '../signals.js';
import { packageVersion } from '../version.js';
import type { Command } from './types.js';

/** Where `gatehouse all` keeps the key pair it makes when none is configured (relative to the cwd). */
export const ALL_KEYS_DIR = join('.gatehouse', 'token-keys');

export const allCommand: Command = {
  name: 'all',
  summary: 'run the single-server install: proxy (with the engines) and the guacd-compatible listener',
  description:
    'Runs every available role in one process (what `npm start` runs): the proxy on proxy.listen (the tunnel,\n' +
    '/health, /metrics, the client page) and the guacd-compatible listener on engine.listen, until SIGTERM or\n' +
    'SIGINT (which drain the proxy). The webapp role is not implemented yet. If proxyAuth.mode is signed and no\n' +
    `public key is configured, a key pair is created once in ${ALL_KEYS_DIR}/ and used; mint tokens with\n` +
    `'gatehouse token --key ${ALL_KEYS_DIR}/token-private.pem --target vnc://HOST:PORT'.`,
  options: [],
  available: true,
  async run({ values, io }) {
    const loaded = await loadConfigForCli(values, io, 'all');
    if (loaded === undefined) return EXIT.USAGE;
    const { createLogger } = await import('../../log/logger.js');
    let { config } = loaded;
    const version = packageVersion();
    const log = createLogger(config);
    log.info({ version, configFile: loaded.file ?? null }, `gatehouse ${version}: single-server install`);

    let codec: Awaited<ReturnType<typeof detectCodec>>;
    try {
      codec = await detectCodec(config.codec.impl);
    } catch (err) {
      log.fatal(
        { err, requested: config.codec.impl },
        `codec: cannot use codec.impl=${config.codec.impl}: ${err instanceof Error ? err.message : String(err)}`,
      );
      return EXIT.FAILURE;
    }
    log[codec.selector === 'failed' ? 'warn' : 'info'](
      { codec: { impl: codec.impl, requested: config.codec.impl, reason: codec.reason } },
      `codec: ${codec.impl} (${codec.reason})`,
    );

    const signed = config.proxyAuth.signed;
    const keys = Array.isArray(signed.publicKeys) ? signed.publicKeys : [signed.publicKeys].filter(Boolean);
    if (config.proxyAuth.mode === 'signed' && keys.length === 0) {
      const dir = resolve(io.cwd, ALL_KEYS_DIR);
      const publicFile = join(dir, 'token-public.pem');
      if (!existsSync(publicFile)) {
        const { generateSigningKeyPair } = await import('../../proxy/auth/keys.js');
        const pair = generateSigningKeyPair();
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeFileSync(join(dir, 'token-private.pem'), pair.privatePem, { mode: 0o600 });
        writeFileSync(publicFile, pair.publicPem);
        log.warn({ dir }, `no token key configured: made a key pair in ${dir} (kid ${pair.kid})`);
      }
      log.info(
        { publicKey: publicFile },
        `signed tokens: mint with 'gatehouse token --key ${join(dir, 'token-private.pem')} --target vnc://HOST:PORT'`,
      );
      config = {
        ...config,
        proxyAuth: { ...config.proxyAuth, signed: { ...signed, publicKeys: [publicFile] } },
      };
    }

    const managers = resolveClusterSize(config.proxy.clusterSize);
    log.info(
      { plan: { roles: ['proxy', 'engine'], connectionManagers: managers, notYet: ['webapp'] } },
      `plan: proxy with ${managers} connection manager${managers === 1 ? '' : 's'}, engine listener; webapp not implemented yet`,
    );
    // One stop for both roles: a signal, or either role failing to start (then the other stops too).
    let stop!: (s: NodeJS.Signals) => void;
    const signal = new Promise<NodeJS.Signals>((r) => {
      stop = r;
    });
    void nextSignal().then(stop);
    const stopOnFailure = (code: number): number => {
      if (code !== 0) stop('SIGTERM');
      return code;
    };
    const { runProxy } = await import('../../proxy/run.js');
    const { runEngineListener } = await import('../../engine/guacd/run.js');
    const codes = await Promise.all([
      runProxy(config, version, () => signal).then(stopOnFailure),
      runEngineListener(config, version, () => signal).then(stopOnFailure),
    ]);
    return Math.max(...codes);
  },
};
