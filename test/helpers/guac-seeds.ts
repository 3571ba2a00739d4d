/**
 * Golden Guacamole byte streams with their exact expected outcome under the default limits. They are also
 * the fuzzer's seed corpus: native/fuzz/corpus/<name> holds each one's raw bytes (the unit tests check the
 * files match; write them with writeSeedCorpus()).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesOf } from './guac-arbitraries.js';
import { fromRoot } from './paths.js';

export interface Seed {
  /** File name in native/fuzz/corpus/. */
  name: string;
  bytes: Uint8Array;
  /** Absolute end offsets of the completed instructions (before any error). */
  ends: number[];
  /** The error (code from ScanErrorCode, absolute offset), or null if the stream is valid so far. */
  error: { code: number; offset: number } | null;
}

const A = (n: number): string => 'A'.repeat(n);

const seedList: Array<Omit<Seed, 'name'> & { label: string }> = [
  { label: 'valid-sync', bytes: bytesOf('4.sync,3.123;'), ends: [13], error: null },
  { label: 'valid-ping', bytes: bytesOf('0.,4.ping,13.1700000000000;'), ends: [27], error: null },
  {
    label: 'valid-tunnel-uuid',
    bytes: bytesOf('0.,36.0f8e0e4a-6a53-4b8e-9a7e-52c1f4f2f3d1;'),
    ends: [43],
    error: null,
  },
  { label: 'valid-multibyte', bytes: bytesOf('4.name,1.é,1.€,1.😀;'), ends: [25], error: null },
  { label: 'valid-zero-length-args', bytes: bytesOf('4.args,0.,0.,0.;'), ends: [16], error: null },
  { label: 'valid-empty-opcode-alone', bytes: bytesOf('0.;0.;'), ends: [3, 6], error: null },
  {
    label: 'valid-img-blob-end',
    bytes: bytesOf('3.img,1.1,2.14,1.0,9.image/png,1.0,1.0;4.blob,1.1,8.iVBORw0K;3.end,1.1;'),
    ends: [39, 61, 71],
    error: null,
  },
  {
    label: 'valid-input',
    bytes: bytesOf('5.mouse,3.100,3.200,1.0;3.key,5.65307,1.1;4.sync,13.1700000000016;3.nop;'),
    ends: [24, 42, 66, 72],
    error: null,
  },
  { label: 'valid-leading-zeros', bytes: bytesOf('004.sync,01.1;'), ends: [14], error: null },
  { label: 'valid-nul-in-value', bytes: bytesOf('1.', [0x00], ';'), ends: [4], error: null },
  { label: 'valid-astral-pair', bytes: bytesOf('2.😀😀;'), ends: [11], error: null },
  {
    label: 'valid-unicode-edges',
    bytes: bytesOf('3.', [0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf], ';'),
    ends: [13],
    error: null,
  },
  { label: 'valid-128-elements', bytes: bytesOf('4.test', ',0.'.repeat(127), ';'), ends: [388], error: null },
  {
    label: 'valid-8192-codepoints',
    bytes: bytesOf('4.blob,1.1,8192.', A(8192), ';'),
    ends: [8209],
    error: null,
  },
  {
    label: 'valid-32768-bytes',
    bytes: bytesOf('4.blob,', `8192.${A(8192)},`.repeat(3), `8161.${A(8161)};`),
    ends: [32768],
    error: null,
  },
  {
    label: 'valid-incomplete-tail',
    bytes: bytesOf('3.nop;4.sync,3.12'),
    ends: [6],
    error: null,
  },
  {
    label: 'valid-value-holds-punctuation',
    bytes: bytesOf('5.;,.;,,3.1.2;'),
    ends: [14],
    error: null,
  },
  { label: 'bad-length-alpha', bytes: bytesOf('x.abc;'), ends: [], error: { code: 1, offset: 0 } },
  { label: 'bad-length-missing-dot', bytes: bytesOf('4sync;'), ends: [], error: { code: 1, offset: 1 } },
  { label: 'bad-length-empty', bytes: bytesOf('.;'), ends: [], error: { code: 1, offset: 0 } },
  { label: 'bad-length-negative', bytes: bytesOf('3.nop;-1.a;'), ends: [6], error: { code: 1, offset: 6 } },
  { label: 'bad-length-space', bytes: bytesOf('1 .a;'), ends: [], error: { code: 1, offset: 1 } },
  { label: 'bad-length-after-comma', bytes: bytesOf('4.sync,;'), ends: [], error: { code: 1, offset: 7 } },
  { label: 'element-too-long-8193', bytes: bytesOf('8193.'), ends: [], error: { code: 2, offset: 3 } },
  {
    label: 'element-too-long-huge-digits',
    bytes: bytesOf('4.sync,99999999999999999999999999999999.x;'),
    ends: [],
    error: { code: 2, offset: 10 },
  },
  {
    label: 'too-many-elements-129',
    bytes: bytesOf('0.', ',0.'.repeat(128), ';'),
    ends: [],
    error: { code: 3, offset: 384 },
  },
  {
    label: 'instruction-too-long-32769',
    bytes: bytesOf('3.nop;4.blob,', `8192.${A(8192)},`.repeat(4)),
    ends: [6],
    error: { code: 4, offset: 6 + 32768 },
  },
  {
    label: 'utf8-overlong-c0-80',
    bytes: bytesOf('1.', [0xc0, 0x80], ';'),
    ends: [],
    error: { code: 5, offset: 2 },
  },
  {
    label: 'utf8-surrogate-ed-a0-80',
    bytes: bytesOf('1.', [0xed, 0xa0, 0x80], ';'),
    ends: [],
    error: { code: 5, offset: 3 },
  },
  {
    label: 'utf8-f5-lead',
    bytes: bytesOf('1.', [0xf5, 0x80, 0x80, 0x80], ';'),
    ends: [],
    error: { code: 5, offset: 2 },
  },
  {
    label: 'utf8-above-10ffff',
    bytes: bytesOf('1.', [0xf4, 0x90, 0x80, 0x80], ';'),
    ends: [],
    error: { code: 5, offset: 3 },
  },
  {
    label: 'utf8-overlong-e0',
    bytes: bytesOf('1.', [0xe0, 0x80, 0x80], ';'),
    ends: [],
    error: { code: 5, offset: 3 },
  },
  {
    label: 'utf8-lone-continuation',
    bytes: bytesOf('1.', [0x80], ';'),
    ends: [],
    error: { code: 5, offset: 2 },
  },
  {
    label: 'utf8-truncated-then-comma',
    bytes: bytesOf('2.a', [0xc3], ',1.b;'),
    ends: [],
    error: { code: 5, offset: 4 },
  },
  { label: 'missing-terminator', bytes: bytesOf('4.sync3.abc'), ends: [], error: { code: 6, offset: 6 } },
  { label: 'length-too-short', bytes: bytesOf('3.abcd;'), ends: [], error: { code: 6, offset: 5 } },
  { label: 'zero-length-then-junk', bytes: bytesOf('0.x;'), ends: [], error: { code: 6, offset: 2 } },
  {
    label: 'utf16-length-for-emoji',
    bytes: bytesOf('4.name,2.😀;4.sync;'),
    ends: [],
    error: { code: 6, offset: 14 },
  },
  {
    label: 'error-after-valid',
    bytes: bytesOf('3.nop;3.nop;Z'),
    ends: [6, 12],
    error: { code: 1, offset: 12 },
  },
];

export const SEEDS: readonly Seed[] = seedList.map(({ label, ...rest }, i) => ({
  name: `seed-${String(i + 1).padStart(2, '0')}-${label}`,
  ...rest,
}));

export const SEED_CORPUS_DIR = fromRoot('native', 'fuzz', 'corpus');

/** Writes every seed to native/fuzz/corpus/ (or `dir`). */
export function writeSeedCorpus(dir: string = SEED_CORPUS_DIR): void {
  mkdirSync(dir, { recursive: true });
  for (const seed of SEEDS) writeFileSync(join(dir, seed.name), seed.bytes);
}
