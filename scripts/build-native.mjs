#!/usr/bin/env node
// Builds the native code with cmake-js (the top-level CMakeLists.txt). Never throws for a failed build:
// callers get { ok: false, error } with the reason and fall back to the TypeScript codec.
//
//   node scripts/build-native.mjs            release addon -> build/Release/gatehouse_native.node
//   node scripts/build-native.mjs --asan     ASan+UBSan addon -> build-asan/Release/gatehouse_native.node
//   node scripts/build-native.mjs --fuzz     libFuzzer target -> build-fuzz/guac_framer_fuzz (clang)
//   add --quiet to print only the result; the full log is always kept in <build dir>/gatehouse-build.log
//
// No Node.js headers are downloaded: package.json declares binary.napi_versions, so cmake-js uses the
// node-api-headers package. See docs/native.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Build directory and artifact of each variant. */
export const VARIANTS = {
  release: { dir: 'build', artifact: join('Release', 'gatehouse_native.node') },
  asan: { dir: 'build-asan', artifact: join('Release', 'gatehouse_native.node') },
  fuzz: { dir: 'build-fuzz', artifact: 'guac_framer_fuzz' },
};

const BUILD_TIMEOUT_MS = 10 * 60 * 1000;

/** Absolute path of a variant's artifact (whether or not it exists). */
export function artifactPath(variant = 'release') {
  const v = VARIANTS[variant];
  return join(repoRoot, v.dir, v.artifact);
}

function has(cmd, args = ['--version']) {
  try {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
    return r.status === 0;
  } catch {
    return false;
  }
}

/** The compilers to use for a variant, or an error saying what is missing. */
function pickCompilers(variant) {
  if (variant === 'fuzz') {
    if (!has('clang++')) {
      return { error: 'clang++ not found (the fuzz target needs clang and libclang-rt-14-dev)' };
    }
    return { cxx: 'clang++', cc: 'clang' };
  }
  if (variant === 'asan') {
    // g++ first: its libasan.so is what the sanitizer test preloads into node (see sanitizerPreload).
    if (has('g++')) return { cxx: 'g++', cc: 'gcc' };
    if (has('clang++')) return { cxx: 'clang++', cc: 'clang' };
    return { error: 'no C++ compiler found (install g++)' };
  }
  if (has('c++') || has('g++') || has('clang++')) return {};
  return { error: 'no C++ compiler found (install g++)' };
}

function lastLines(text, n) {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** First compiler/CMake error line of a build log, for a one-line reason. */
function summarize(log) {
  const lines = log.split('\n');
  const hit =
    lines.find((l) => /\berror\b/i.test(l) && !/^\s*ERR!/.test(l) && !/OMG/.test(l)) ??
    lines.find((l) => /CMake Error/.test(l));
  return hit ? hit.trim().slice(0, 300) : lastLines(log, 1).trim().slice(0, 300);
}

/**
 * Builds one variant. Resolves to { ok: true, path } or { ok: false, error, logPath? }; never rejects.
 * @param {{ variant?: 'release' | 'asan' | 'fuzz', quiet?: boolean }} [opts]
 */
export async function buildNative({ variant = 'release', quiet = false } = {}) {
  try {
    return await build(variant, quiet);
  } catch (err) {
    return { ok: false, path: artifactPath(variant), error: `unexpected build failure: ${err?.message ?? err}` };
  }
}

/** The libFuzzer target (clang) into build-fuzz/. Same contract as buildNative. */
export function buildFuzzer({ quiet = false } = {}) {
  return buildNative({ variant: 'fuzz', quiet });
}

async function build(variant, quiet) {
  const v = VARIANTS[variant];
  if (!v) return { ok: false, path: '', error: `unknown variant '${variant}' (release, asan, fuzz)` };
  const path = artifactPath(variant);
  const cmakeJs = join(repoRoot, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  if (!existsSync(cmakeJs)) return { ok: false, path, error: 'cmake-js not installed (run npm install)' };
  if (!existsSync(join(repoRoot, 'node_modules', 'node-addon-api'))) {
    return { ok: false, path, error: 'node-addon-api not installed (run npm install)' };
  }
  if (!has('cmake')) return { ok: false, path, error: 'cmake not found (install cmake)' };
  const compilers = pickCompilers(variant);
  if (compilers.error) return { ok: false, path, error: compilers.error };

  const outDir = join(repoRoot, v.dir);
  const args = [
    cmakeJs,
    'compile', // build; if that fails (e.g. a stale cache from another checkout), clean and rebuild once
    '--directory',
    repoRoot,
    '--out',
    outDir,
    '--config',
    'Release',
    '--parallel',
    String(availableParallelism()),
  ];
  if (compilers.cxx) args.push('--cxx', compilers.cxx, '--cc', compilers.cc);
  if (variant === 'asan') args.push('--CDGATEHOUSE_SANITIZE=ON');
  if (variant === 'fuzz') args.push('--CDGATEHOUSE_FUZZ=ON');

  const { code, log } = await run(process.execPath, args, quiet);
  const logPath = join(outDir, 'gatehouse-build.log');
  try {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(logPath, log);
  } catch {
    // the log is a convenience
  }
  if (code !== 0) {
    return { ok: false, path, logPath, error: `cmake-js ${code}: ${summarize(log)} (full log: ${logPath})` };
  }
  if (!existsSync(path)) return { ok: false, path, logPath, error: `build succeeded but ${path} is missing` };
  return { ok: true, path, logPath };
}

function run(cmd, args, quiet) {
  return new Promise((resolve) => {
    let log = '';
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d) => {
      log += d;
      if (!quiet) process.stderr.write(d);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      log += `\nbuild timed out after ${BUILD_TIMEOUT_MS / 1000}s\n`;
      child.kill('SIGKILL');
    }, BUILD_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: `failed to start (${err.message})`, log });
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ code: status === 0 ? 0 : `exited with ${status ?? signal}`, log });
    });
  });
}

/**
 * The sanitizer runtime to LD_PRELOAD into node for an addon built with GATEHOUSE_SANITIZE=ON, from the
 * same compiler that built it (read from the build directory's CMakeCache.txt). Returns null if unknown.
 * @param {string} [buildDir] defaults to build-asan/
 * @returns {{ compiler: string, preload: string } | null}
 */
export function sanitizerPreload(buildDir = join(repoRoot, VARIANTS.asan.dir)) {
  let cache;
  try {
    cache = readFileSync(join(buildDir, 'CMakeCache.txt'), 'utf8');
  } catch {
    return null;
  }
  const compiler = /^CMAKE_CXX_COMPILER:[A-Z]+=(.+)$/m.exec(cache)?.[1]?.trim();
  if (!compiler) return null;
  const isClang = /clang/.test(compiler) || /^CMAKE_CXX_COMPILER_ID:.*=Clang/m.test(cache);
  const names = isClang ? [`libclang_rt.asan-${clangArch()}.so`] : ['libasan.so'];
  for (const name of names) {
    const r = spawnSync(compiler, [`-print-file-name=${name}`], { encoding: 'utf8' });
    const p = r.stdout?.trim();
    // A compiler that does not know the file echoes the bare name back.
    if (r.status === 0 && p && p !== name && existsSync(p)) return { compiler, preload: p };
  }
  return null;
}

function clangArch() {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
}

// CLI
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = new Set(process.argv.slice(2));
  const variant = argv.has('--fuzz') ? 'fuzz' : argv.has('--asan') ? 'asan' : 'release';
  const result = await buildNative({ variant, quiet: argv.has('--quiet') });
  if (result.ok) {
    process.stdout.write(`${result.path}\n`);
  } else {
    process.stderr.write(`build-native: ${variant} build failed: ${result.error}\n`);
    process.exitCode = 1;
  }
}
