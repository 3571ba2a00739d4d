// Static files of the web UI (dist/public/webapp) and the session client (dist/public): read once into
// memory at start (a few hundred KiB), served with a strong ETag, long caching for versioned assets and a
// strict Content-Security-Policy.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Every file under `dir`, keyed by URL path with `prefix` (e.g. '/' or '/client/'). */
export function loadStaticDir(
  dir: string,
  prefix: string,
  into = new Map<string, StaticFile>(),
): Map<string, StaticFile> {
  if (!existsSync(dir)) return into;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        walk(p);
        continue;
      }
      const type = TYPES[extname(name).toLowerCase()];
      if (!type) continue;
      const body = readFileSync(p);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      into.set(prefix + relative(dir, p).split(sep).join('/'), { body, type, etag });
    }
  };
  walk(dir);
  return into;
}
