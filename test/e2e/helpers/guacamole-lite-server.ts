// guacamole-lite 1.2.0 (npm), the third-party WebSocket-to-guacd bridge, on a free loopback port in front of
// a given guacd address, for the end-to-end tests.
//
// What guacamole-lite expects (read from node_modules/guacamole-lite/lib):
// - the browser connects to ws://host:port/?token=<token>[&width=..&height=..&dpi=..&GUAC_AUDIO=..];
// - token = base64(JSON {iv: base64(16 random bytes), value: base64(AES-256-CBC(JSON settings))}), the key
//   being 32 bytes; the decrypted text is read as ASCII, so settings must be ASCII;
// - settings = {connection: {type: 'vnc'|'rdp'|'ssh'|'telnet', settings: {hostname, port, password, ...},
//   guacdHost?, guacdPort?}}: type is what it `select`s, settings fill guacd's `args` by name (missing → "").
// Behaviour worth knowing: it answers guacd's args with VERSION_1_1_0 at most (1_0_0 if guacd offers that),
// sends size/audio/video/image(/timezone), and does not echo the tunnel's pings. Failures reach the browser
// as `error` instructions whose status is a word, not a number (e.g. "SERVICE_UNAVAILABLE" when guacd
// refuses the connection), and the WebSocket then closes with 1011. An undecryptable token makes 1.2.0
// reject a promise unhandled (Server.newConnection → ClientConnection.connect reads settings it never
// decrypted), which fails the whole test process: tests must not send one.
import { createCipheriv, randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { LOOPBACK } from './free-port.js';

/** What a token carries (guacamole-lite's `connection` object). */
export interface LiteConnection {
  type: 'vnc' | 'rdp' | 'ssh' | 'telnet';
  /** guacd parameters by name (hostname, port, password, ...), plus width/height/dpi/audio/image. */
  settings: Record<string, string | number | string[] | null>;
  /** Route this connection to another guacd than the server's default. */
  guacdHost?: string;
  guacdPort?: number;
}

export interface LiteServerOptions {
  guacdHost?: string;
  guacdPort: number;
  /** 32-byte AES-256 key; default random. */
  key?: Buffer;
  /** Close a connection after this long without a message from the browser (guacamole-lite default 10 s). */
  maxInactivityTimeMs?: number;
}

export interface LiteServer {
  /** ws://127.0.0.1:PORT/ - the tunnel URL for Guacamole.WebSocketTunnel. */
  url: string;
  port: number;
  key: Buffer;
  /** guacamole-lite's log lines (its own logger), the last 500. */
  log: string[];
  /** An encrypted token for `connection`, in the format guacamole-lite decrypts. */
  makeToken(connection: LiteConnection): string;
  /** The connect data for the tunnel: `token=...` plus any unencrypted query settings. */
  connectData(connection: LiteConnection, query?: Record<string, string | number>): string;
  stop(): Promise<void>;
}

interface GuacamoleLiteInstance {
  close(): void;
}
type GuacamoleLiteCtor = new (
  wsOptions: { server: HttpServer },
  guacdOptions: { host: string; port: number },
  clientOptions: Record<string, unknown>,
) => GuacamoleLiteInstance;

/** The token guacamole-lite decrypts with `key`: AES-256-CBC, JSON {iv, value} in base64, all base64. */
export function makeLiteToken(key: Buffer, connection: LiteConnection): string {
  if (key.length !== 32) throw new RangeError(`guacamole-lite keys are 32 bytes, got ${key.length}`);
  const plain = JSON.stringify({ connection });
  if (!/^[\x20-\x7e]*$/.test(plain))
    throw new Error('guacamole-lite reads tokens as ASCII: use ASCII settings');
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const value = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const envelope = JSON.stringify({ iv: iv.toString('base64'), value: value.toString('base64') });
  return Buffer.from(envelope).toString('base64');
}

export async function startGuacamoleLite(opts: LiteServerOptions): Promise<LiteServer> {
  const require = createRequire(import.meta.url);
  const GuacamoleLite = require('guacamole-lite') as GuacamoleLiteCtor;
  const key = opts.key ?? randomBytes(32);
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('WebSocket only\n');
  });
  // Upgraded (WebSocket) sockets are destroyed on stop(), so no close handshake can hold it up.
  const sockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, LOOPBACK, () => resolve());
  });
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const log: string[] = [];
  const keep = (...args: unknown[]): void => {
    log.push(args.map(String).join(' '));
    if (log.length > 500) log.shift();
  };
  const lite = new GuacamoleLite(
    { server: http },
    { host: opts.guacdHost ?? LOOPBACK, port: opts.guacdPort },
    {
      crypt: { cypher: 'AES-256-CBC', key },
      maxInactivityTime: opts.maxInactivityTimeMs ?? 10_000,
      log: { level: 'VERBOSE', stdLog: keep, errorLog: keep },
    },
  );
  let stopping: Promise<void> | undefined;
  return {
    url: `ws://${LOOPBACK}:${port}/`,
    port,
    key,
    log,
    makeToken: (connection) => makeLiteToken(key, connection),
    connectData(connection, query = {}) {
      const params = new URLSearchParams({ token: makeLiteToken(key, connection) });
      for (const [k, v] of Object.entries(query)) params.append(k, String(v));
      return params.toString();
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        lite.close();
        http.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopping;
    },
  };
}
