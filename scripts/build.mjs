#!/usr/bin/env node
// Builds Gatehouse: the TypeScript (fatal on error) and the native addon (optional: on failure a warning
// says why and the TypeScript codec is used). Run by `npm ci` (prepare) and by `npm test`.
//
//   node scripts/build.mjs [--native-only] [--ts-only]
//
// GATEHOUSE_SKIP_NATIVE=1 skips the addon.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));

function warn(msg) {
  process.stderr.write(`gatehouse build: warning: ${msg}\n`);
}

function buildTypeScript() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    if (existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
      // Production install (devDependencies omitted) of an already built tree, e.g. the Docker runtime stage.
      return;
    }
    console.error('gatehouse build: typescript is not installed; run `npm ci` (with dev dependencies)');
    process.exit(1);
  }
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], {
    stdio: 'inherit',
    cwd: root,
  });
  if (r.status !== 0) {
    console.error('gatehouse build: TypeScript compilation failed');
    process.exit(r.status ?? 1);
  }
}

async function buildAddon() {
  if (process.env.GATEHOUSE_SKIP_NATIVE === '1') {
    warn('GATEHOUSE_SKIP_NATIVE=1: native addon not built; the TypeScript codec will be used');
    return;
  }
  if (!existsSync(join(root, 'node_modules', 'cmake-js'))) {
    if (!existsSync(join(root, 'build', 'Release', 'gatehouse_native.node'))) {
      warn('cmake-js is not installed (production install?); the TypeScript codec will be used');
    }
    return;
  }
  const deps = spawnSync('bash', [join(root, 'scripts', 'install-system-deps.sh'), 'build'], {
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  if (deps.status !== 0) {
    process.stderr.write(deps.stderr ?? '');
    warn(
      'system build tools are missing (see above); native addon not built; the TypeScript codec will be used',
    );
    return;
  }
  const { buildNative } = await import(pathToFileURL(join(root, 'scripts', 'build-native.mjs')).href);
  const result = await buildNative({ variant: 'release', quiet: !process.env.GATEHOUSE_VERBOSE_BUILD });
  if (!result.ok) {
    warn(`native addon not built: ${result.error}; the TypeScript codec will be used`);
  }
}

if (!args.has('--native-only')) {
  buildTypeScript();
  const { copyClientAssets } = await import(
    pathToFileURL(join(root, 'scripts', 'copy-client-assets.mjs')).href
  );
  copyClientAssets({ repoRoot: root });
}
if (!args.has('--ts-only')) await buildAddon();
