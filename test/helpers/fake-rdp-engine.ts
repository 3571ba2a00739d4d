// A stand-in for the gatehouse-rdp executable, for testing the process manager (src/engine/rdp) without
// FreeRDP: a Node script written to a temp dir (mode 0755, so a dropped-privilege user can run it) that plays
// guacd's server side of the handshake on stdin/stdout exactly as the real one is specified to, then
// misbehaves on command. The command is the `hostname` parameter:
//   ok            a `sync` every 50 ms until stdin ends (then exit 0); echoes each client instruction as `echo`
//   segv          ready, one sync, then SIGSEGV to itself     abort       ready, one sync, then abort()
//   exit3         ready, then exit 3 without a word           ignore-term ready, ignores SIGTERM, runs on
//   flood         ready, then writes 8 KiB instructions for ever (as fast as the pipe takes them)
//   auth-early    `error,Authentication failure,769` instead of ready, exit 1
//   auth-late     ready, then `error,Authentication failure,769`, exit 1
//   close-stdout  ready, then closes stdout and lives on      chatty      stderr lines of every kind, then ok
// Fault injection for the process manager only: the real executable is tested against real RDP servers.
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RDP_ARG_NAMES } from '../../src/engine/rdp/params.js';

const SCRIPT = String.raw`#!/usr/bin/env node
'use strict';
const ARG_NAMES = __ARG_NAMES__;
const out = (...els) => {
  process.stdout.write(els.map((e) => { const s = String(e); return [...s].length + '.' + s; }).join(',') + ';');
};
const log = (level, msg, extra) => process.stderr.write(JSON.stringify({ level, msg, ...extra }) + '\n');
log('info', 'fake engine started', { argv: process.argv.slice(2), uid: process.getuid() });
let buf = '';
const seen = {};
let params = null;
let mode = '';
let timer = null;
function parse() {
  const list = [];
  for (;;) {
    const els = [];
    let pos = 0;
    let done = false;
    for (;;) {
      const dot = buf.indexOf('.', pos);
      if (dot < 0) return list;
      const n = Number(buf.slice(pos, dot));
      const chars = [...buf.slice(dot + 1)];
      if (chars.length < n + 1) return list;
      const value = chars.slice(0, n).join('');
      const term = chars[n];
      els.push(value);
      pos = dot + 1 + value.length + 1;
      if (term === ';') { done = true; break; }
    }
    if (done) { buf = buf.slice(pos); list.push(els); }
  }
}
function fail(msg, status) { out('error', msg, status); process.exit(1); }
function onInstruction([op, ...args]) {
  if (params === null) {
    if (op === 'select') {
      if (args[0] !== 'rdp') fail('no such protocol', 519);
      out('args', 'VERSION_1_5_0', ...ARG_NAMES);
      return;
    }
    if (op === 'connect') {
      for (const need of ['size', 'audio', 'video', 'image']) if (!seen[need]) fail('no ' + need, 768);
      if (args[0] !== 'VERSION_1_5_0') fail('bad version ' + args[0], 768);
      if (args.length !== ARG_NAMES.length + 1) fail('expected ' + ARG_NAMES.length + ' values, got ' + (args.length - 1), 768);
      params = {};
      ARG_NAMES.forEach((name, i) => { params[name] = args[i + 1]; });
      log('debug', 'connect', { seen, hostname: params.hostname });
      return begin(params.hostname);
    }
    seen[op] = args;
    return;
  }
  out('echo', op, ...args);
}
function frames() { timer = setInterval(() => out('sync', Date.now()), 50); }
function begin(host) {
  mode = host;
  if (host === 'auth-early') fail('Authentication failure', 769);
  out('ready', '$fake-' + process.pid);
  if (host === 'ok') return frames();
  if (host === 'chatty') {
    log('warn', 'a warning', { code: 7 });
    log('debug', 'some detail');
    log('error', 'an error');
    process.stderr.write('plain text line\n');
    process.stderr.write(JSON.stringify({ level: 'info', msg: 'x'.repeat(10000) }) + '\n');
    return frames();
  }
  if (host === 'segv') { out('sync', 1); setTimeout(() => process.kill(process.pid, 'SIGSEGV'), 100); return; }
  if (host === 'abort') { out('sync', 1); setTimeout(() => process.abort(), 100); return; }
  if (host === 'exit3') { setTimeout(() => process.exit(3), 50); return; }
  if (host === 'auth-late') { out('sync', 1); return fail('Authentication failure', 769); }
  if (host === 'ignore-term') { process.on('SIGTERM', () => log('info', 'SIGTERM ignored')); return frames(); }
  if (host === 'close-stdout') { out('sync', 1); setTimeout(() => require('node:fs').closeSync(1), 50); setInterval(() => {}, 1000); return; }
  if (host === 'flood') {
    const chunk = '4.blob,1.1,' + 8000 + '.' + 'A'.repeat(8000) + ';';
    const pump = () => { while (process.stdout.write(chunk)); process.stdout.once('drain', pump); };
    setTimeout(pump, 10);
    return;
  }
  fail('unknown test mode ' + host, 768);
}
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => { buf += text; for (const i of parse()) onInstruction(i); });
process.stdin.on('end', () => {
  log('info', 'stdin closed', { mode });
  if (mode !== 'ignore-term') process.exit(0);
});
`;

export interface FakeEngine {
  dir: string;
  path: string;
}

/**
 * Writes the fake engine into a new temp dir (0755) and returns its path; `argNames` is the `args` list it
 * offers (default: all of RDP_ARG_NAMES). The caller removes `dir`.
 */
export async function writeFakeRdpEngine(argNames: readonly string[] = RDP_ARG_NAMES): Promise<FakeEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-fake-rdp-'));
  await chmod(dir, 0o755);
  const path = join(dir, 'gatehouse-rdp');
  await writeFile(path, SCRIPT.replace('__ARG_NAMES__', JSON.stringify(argNames)), { mode: 0o755 });
  await chmod(path, 0o755);
  return { dir, path };
}
