#!/usr/bin/env node
// Copies the browser client into dist/public/, where the proxy serves it (src/proxy/client-assets.ts):
// src/proxy/client/* (index.html, client.js, client.css) and guacamole-common-js's ESM build as
// guacamole-common.js; and the webapp's UI, src/webapp/ui/**, into dist/public/webapp/. Idempotent, no dependencies. Run by scripts/build.mjs; also importable:
// `copyClientAssets()` returns the files written.
//
//   node scripts/copy-client-assets.mjs [--quiet]
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LIBRARY = join('node_modules', 'guacamole-common-js', 'dist', 'esm', 'guacamole-common.js');

/** Copies the assets; returns the destination paths. Throws if a source is missing (see below). */
export function copyClientAssets({ repoRoot = root } = {}) {
  const source = join(repoRoot, 'src', 'proxy', 'client');
  const target = join(repoRoot, 'dist', 'public');
  mkdirSync(target, { recursive: true });
  const copies = readdirSync(source)
    .filter((name) => statSync(join(source, name)).isFile())
    .map((name) => [join(source, name), join(target, name)]);
  const library = join(repoRoot, LIBRARY);
  const libraryTarget = join(target, 'guacamole-common.js');
  if (existsSync(library)) copies.push([library, libraryTarget]);
  else if (!existsSync(libraryTarget)) {
    // A production install (devDependencies omitted) keeps an already built copy; otherwise it is fatal.
    throw new Error(`${LIBRARY} is missing: run \`npm ci\` (with dev dependencies)`);
  }
  // The webapp's UI (src/webapp/ui/**) goes to dist/public/webapp/, served at / by the webapp.
  const walk = (from, to) => {
    for (const name of readdirSync(from)) {
      const f = join(from, name);
      if (statSync(f).isDirectory()) walk(f, join(to, name));
      else copies.push([f, join(to, name)]);
    }
  };
  const ui = join(repoRoot, 'src', 'webapp', 'ui');
  if (existsSync(ui)) walk(ui, join(target, 'webapp'));
  // Unchanged files are left alone and changed ones replaced atomically (temp file + rename): a server
  // reading dist/public while a test or build copies never sees a half-written file.
  for (const [from, to] of copies) {
    const body = readFileSync(from);
    if (existsSync(to) && readFileSync(to).equals(body)) continue;
    mkdirSync(dirname(to), { recursive: true });
    const tmp = `${to}.${process.pid}.tmp`;
    writeFileSync(tmp, body);
    renameSync(tmp, to);
  }
  return copies.map(([, to]) => to);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const written = copyClientAssets();
    if (!process.argv.includes('--quiet')) {
      process.stdout.write(`gatehouse build: client assets: ${written.length} files in dist/public\n`);
    }
  } catch (err) {
    process.stderr.write(`gatehouse build: client assets not copied: ${err.message}\n`);
    process.exit(1);
  }
}
