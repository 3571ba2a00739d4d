/**
 * A guacd stand-in that replays recorded engine frames (bench/tunnel/recording.ts), for the relay-capacity
 * phase: the tunnels (Gatehouse's proxy with a guacd target, guacamole-lite) connect to it as to guacd;
 * after the handshake (select → args → … connect → ready) it sends the recorded frames in a loop, each
 * followed by a fresh `sync,<ms>`, keeping at most WINDOW frames unanswered, as the engine paces itself on
 * its client's `sync` replies. It does no drawing work, so the tunnels' own cost is what limits throughput.
 *
 *   node dist/bench/tunnel/replay-guacd.js FRAMES.json      (reports {port} over IPC; stops on disconnect)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { scanInstructions } from './scan.js';

/** Frames in flight per connection (the engine's FramePacer default). */
export const WINDOW = 3;
const MAX_PENDING_INPUT = 1 << 20;

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: replay-guacd.js FRAMES.json\n');
  process.exit(2);
}
const frames = (JSON.parse(readFileSync(file, 'utf8')) as string[]).map((f) => Buffer.from(f, 'utf8'));
if (frames.length === 0) throw new Error('no frames to replay');

const ARGS = encodeInstruction('args', 'VERSION_1_5_0', 'hostname', 'port');

function serve(socket: Socket): void {
  socket.setNoDelay(true);
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let phase: 'select' | 'connect' | 'running' = 'select';
  let inFlight = 0;
  let next = Math.floor(Math.random() * frames.length);
  let ts = Date.now();
  const pump = (): void => {
    if (phase !== 'running' || socket.destroyed) return;
    socket.cork();
    while (inFlight < WINDOW) {
      socket.write(frames[next] as Buffer);
      next = (next + 1) % frames.length;
      ts = Math.max(ts + 1, Date.now());
      const t = String(ts);
      socket.write(`4.sync,${t.length}.${t};`);
      inFlight++;
    }
    socket.uncork();
  };
  const visit = (opcode: string): void => {
    if (phase === 'select' && opcode === 'select') {
      socket.write(ARGS);
      phase = 'connect';
    } else if (phase === 'connect' && opcode === 'connect') {
      socket.write(encodeInstruction('ready', `$${randomUUID()}`));
      phase = 'running';
      pump();
    } else if (phase === 'running' && opcode === 'sync') {
      inFlight = Math.max(0, inFlight - 1);
    } else if (opcode === 'disconnect') {
      socket.end();
    }
  };
  socket.on('data', (chunk: Buffer) => {
    const text = carry + decoder.write(chunk);
    try {
      carry = text.slice(scanInstructions(text, visit));
    } catch {
      socket.destroy();
      return;
    }
    if (carry.length > MAX_PENDING_INPUT) socket.destroy();
    pump();
  });
  socket.on('error', () => socket.destroy());
}

const server = createServer(serve);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0, frames: frames.length });
});
const stop = (): void => {
  server.close();
  process.exit(0);
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
