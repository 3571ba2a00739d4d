/**
 * Run by sanitizers.test.ts in a child node with the ASan runtime preloaded and GATEHOUSE_NATIVE_PATH set
 * to the ASan+UBSan addon (not a test file itself). Feeds the seed corpus and generated adversarial
 * streams through the native framer at random chunkings and compares with the TypeScript framer and the
 * reference scanner. Exit 0 when everything matched; a sanitizer report aborts the process.
 *
 *   GATEHOUSE_ASAN_RUNS   generated inputs per family (default 3000)
 *   GATEHOUSE_ASAN_SEED   PRNG / fast-check seed (default: time-based, printed)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { loadNativeAddon } from '../../src/native/addon.js';
import { NativeGuacamoleFramer } from '../../src/native/native-framer.js';
import { adversarialStream, maybeSmallLimits, withChunking } from '../helpers/guac-arbitraries.js';
import { SEEDS } from '../helpers/guac-seeds.js';
import { fromRoot } from '../helpers/paths.js';
import { assertSameOnChunks, blobStream, prng, randomChunks } from './differential.js';

const runs = Number(process.env.GATEHOUSE_ASAN_RUNS ?? 3000);
const seed = Number(process.env.GATEHOUSE_ASAN_SEED ?? Date.now() % 2 ** 31);
const log = (msg: string): void => {
  process.stdout.write(`${msg}\n`);
};

const loaded = loadNativeAddon();
if (!loaded.addon) {
  process.stderr.write(`asan-corpus-runner: ${loaded.reason}\n`);
  process.exit(2);
}
const wanted = process.env.GATEHOUSE_NATIVE_PATH;
if (!wanted || resolve(wanted) !== loaded.path) {
  process.stderr.write(
    `asan-corpus-runner: GATEHOUSE_NATIVE_PATH must name the sanitizer build (got ${wanted})\n`,
  );
  process.exit(2);
}
const maps = readFileSync('/proc/self/maps', 'utf8');
const runtime = /\S*(libasan\.so[.\d]*|libclang_rt\.asan[^\s/]*\.so)/.exec(maps)?.[0];
if (!runtime) {
  process.stderr.write('asan-corpus-runner: no ASan runtime mapped in this process (LD_PRELOAD missing?)\n');
  process.exit(2);
}
log(`addon: ${loaded.path}`);
log(`asan runtime: ${runtime}`);
log(`seed: ${seed}, runs per family: ${runs}`);

// 1. The seed corpus: files on disk plus the golden seeds in memory (same bytes once written).
const corpus: Array<{ name: string; bytes: Uint8Array }> = SEEDS.map((s) => ({
  name: s.name,
  bytes: s.bytes,
}));
const corpusDir = fromRoot('native', 'fuzz', 'corpus');
let files = 0;
try {
  for (const name of readdirSync(corpusDir)) {
    corpus.push({ name: `file:${name}`, bytes: new Uint8Array(readFileSync(join(corpusDir, name))) });
    files++;
  }
} catch {
  // no corpus directory: the in-memory seeds still run
}
const rand = prng(seed);
let checks = 0;
for (const { name, bytes } of corpus) {
  for (let k = 0; k < 24; k++) {
    const limits =
      k % 3 === 2
        ? {
            maxElementLength: Math.floor(rand() * 13),
            maxElements: Math.floor(rand() * 7),
            maxInstructionBytes: Math.floor(rand() * 49),
          }
        : undefined;
    try {
      assertSameOnChunks(bytes, randomChunks(bytes, rand), limits);
    } catch (err) {
      process.stderr.write(
        `corpus entry ${name} (chunking ${k}, limits ${JSON.stringify(limits)}) differs\n`,
      );
      throw err;
    }
    checks++;
  }
}
log(`corpus: ${corpus.length} entries (${files} files), ${checks} chunkings compared`);

// 2. Generated inputs.
const families: Array<[string, fc.Arbitrary<{ bytes: Uint8Array; chunks: Uint8Array[] }>, number]> = [
  ['adversarial', withChunking(adversarialStream(), 16), runs],
  ['blob', withChunking(blobStream(), 10), Math.max(50, runs >> 3)],
];
for (const [name, arb, numRuns] of families) {
  fc.assert(
    fc.property(arb, maybeSmallLimits(), ({ bytes, chunks }, limits) => {
      assertSameOnChunks(bytes, chunks, limits);
    }),
    { numRuns, seed },
  );
  log(`${name}: ${numRuns} generated streams compared`);
}

// 3. The addon's argument checks, under the sanitizers too.
const f = new NativeGuacamoleFramer();
for (const bad of ['x', new Uint16Array(2), null, {}]) {
  try {
    f.push(bad as unknown as Uint8Array);
    throw new Error('push accepted a non-Uint8Array');
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
}
const { Framer } = loaded.addon;
for (const args of [[], [1, 2], [-1, 1, 1], [1.5, 1, 1], ['1', 1, 1], [Number.NaN, 1, 1]] as unknown[][]) {
  try {
    new (Framer as unknown as new (...a: unknown[]) => unknown)(...args);
    throw new Error(`Framer(${JSON.stringify(args)}) accepted`);
  } catch (err) {
    if (!(err instanceof TypeError) && !(err instanceof RangeError)) throw err;
  }
}
log('argument checks: ok');
log('asan-corpus-runner: all matched');
