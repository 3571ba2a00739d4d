// A scripted guacd for the end-to-end harness: it performs the server side of the guacd handshake
// (select → args → size/audio/video/image/... → connect → ready) and then lets the test send whatever
// instructions it likes, recording what the client sends. It proves the path browser → guacamole-lite →
// "guacd" → browser without any engine behind it.
import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { encodeInstruction } from '../../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../../src/protocol/guacamole/parser.js';
import { LOOPBACK } from './free-port.js';

export interface FakeGuacdSession {
  /** What the client selected (protocol name or connection id). */
  selected: string;
  /** The handshake instructions between args and connect (size, audio, video, image, timezone, name...). */
  handshake: Instruction[];
  /** The version the client chose (connect's first value). */
  version: string;
  /** connect's values by parameter name. */
  params: Record<string, string>;
  /** The connection id sent in `ready`. */
  id: string;
  /** Instructions received after `ready`. */
  received: Instruction[];
  send(opcode: string, ...args: (string | number)[]): void;
  close(): void;
}

export interface FakeGuacdOptions {
  /** Parameter names offered in `args` after the version. */
  argNames: string[];
  /** Offered version, default VERSION_1_5_0. */
  version?: string;
  /** Called once the session is ready (after `ready` was sent). */
  onReady?: (session: FakeGuacdSession) => void;
}

export interface FakeGuacd {
  host: string;
  port: number;
  sessions: FakeGuacdSession[];
  close(): Promise<void>;
}

export async function startFakeGuacd(opts: FakeGuacdOptions): Promise<FakeGuacd> {
  const sockets = new Set<Socket>();
  const sessions: FakeGuacdSession[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const parser = new GuacamoleParser();
    const send = (opcode: string, ...args: (string | number)[]): void => {
      if (socket.writable) socket.write(encodeInstruction(opcode, ...args));
    };
    let session: FakeGuacdSession | undefined;
    let selected: string | undefined;
    const handshake: Instruction[] = [];
    const onInstruction = (ins: Instruction): void => {
      if (session) {
        session.received.push(ins);
        return;
      }
      if (selected === undefined) {
        if (ins.opcode !== 'select') return void socket.destroy();
        selected = ins.args[0] ?? '';
        send('args', opts.version ?? 'VERSION_1_5_0', ...opts.argNames);
        return;
      }
      if (ins.opcode !== 'connect') return void handshake.push(ins);
      const params: Record<string, string> = {};
      opts.argNames.forEach((name, i) => {
        params[name] = ins.args[i + 1] ?? '';
      });
      session = {
        selected,
        handshake,
        version: ins.args[0] ?? '',
        params,
        id: `$${randomUUID()}`,
        received: [],
        send,
        close: () => socket.end(),
      };
      sessions.push(session);
      send('ready', session.id);
      opts.onReady?.(session);
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const ins of parser.feed(chunk)) onInstruction(ins);
      } catch {
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    host: LOOPBACK,
    port,
    sessions,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
