/**
 * Codec benchmark: the native framer, the TypeScript framer and parser, and guacamole-common-js's own
 * Parser (the peer), side by side on the same streams in one run. Prints a table with ratios and writes
 * bench/results/codec.json + bench/results/codec.md.
 *
 *   node dist/bench/codec.js [--rounds 7] [--min-ms 300] [--mb 24] [--chunk 65536]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { createFramer, framerImplementation } from '../src/native/select-framer.js';
import { GuacamoleFramer } from '../src/protocol/guacamole/framer.js';
import { GuacamoleParser } from '../src/protocol/guacamole/parser.js';
import { fromRoot } from '../src/util/paths.js';
import { formatReport } from './helpers/codec-report.js';
import { imageHeavyStream, inputHeavyStream } from './helpers/guac-streams.js';
import { type Contender, runBench, type Stream } from './helpers/harness.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    'min-ms': { type: 'string', default: '300' },
    mb: { type: 'string', default: '24' },
    chunk: { type: 'string', default: '65536' },
  },
});
const rounds = Number(values.rounds);
const minMs = Number(values['min-ms']);
const targetBytes = Number(values.mb) * 1024 * 1024;
const chunkSize = Number(values.chunk);

interface GuacPeerParser {
  oninstruction: ((opcode: string, args: string[]) => void) | null;
  receive(packet: string): void;
}
const require = createRequire(import.meta.url);
const Guacamole = require('guacamole-common-js') as { Parser: new () => GuacPeerParser };

const streams: Stream[] = [
  imageHeavyStream(targetBytes, chunkSize),
  inputHeavyStream(Math.max(1, targetBytes / 4), chunkSize),
];

const nativeAvailable = (() => {
  try {
    createFramer({ impl: 'native' });
    return { ok: true, reason: 'loaded' };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
})();

const contenders: Contender[] = [];
if (nativeAvailable.ok) {
  contenders.push({
    name: 'native framer',
    kind: 'framer',
    run(s) {
      const f = createFramer({ impl: 'native' });
      let ends = 0;
      for (const c of s.chunks) if (f.push(c) >= 0) ends++;
      return ends;
    },
  });
}
contenders.push(
  {
    name: 'TS framer',
    kind: 'framer',
    run(s) {
      const f = new GuacamoleFramer();
      let ends = 0;
      for (const c of s.chunks) if (f.push(c) >= 0) ends++;
      return ends;
    },
  },
  {
    name: 'TS parser',
    kind: 'parser',
    run(s) {
      const p = new GuacamoleParser();
      let n = 0;
      for (const c of s.chunks) n += p.feed(c).length;
      return n;
    },
  },
  {
    name: 'guacamole-common-js Parser',
    kind: 'parser',
    note: 'fed strings (UTF-8 decoded before timing), as in the browser',
    run(s) {
      const p = new Guacamole.Parser();
      let n = 0;
      p.oninstruction = () => {
        n++;
      };
      for (const c of s.textChunks) p.receive(c);
      return n;
    },
  },
  {
    name: 'guacamole-common-js + decode',
    kind: 'parser',
    note: 'the peer fed bytes: streaming TextDecoder, then receive(), as a Node relay would',
    run(s) {
      const p = new Guacamole.Parser();
      const decoder = new TextDecoder();
      let n = 0;
      p.oninstruction = () => {
        n++;
      };
      for (const c of s.chunks) p.receive(decoder.decode(c, { stream: true }));
      return n;
    },
  },
);

const results = runBench(streams, contenders, { rounds, minMs });
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: (await import('node:os')).cpus()[0]?.model ?? 'unknown',
  rounds,
  minMs,
  chunkSize,
  codecAutoSelection: framerImplementation(),
  native: nativeAvailable,
};
const report = formatReport(meta, streams, results);
process.stdout.write(`${report.text}\n`);
const outDir = fromRoot('bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(
  `${outDir}/codec.json`,
  `${JSON.stringify({ meta, results, summary: report.summary }, null, 2)}\n`,
);
writeFileSync(`${outDir}/codec.md`, `${report.markdown}\n`);
process.stdout.write(`\nwrote ${outDir}/codec.json and codec.md\n`);
