import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, whether this runs from `test/` (source) or `dist/test/` (compiled). */
function findRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const marker = `${'/'}dist${'/'}test${'/'}`;
  const idx = here.indexOf(marker.slice(0, -1));
  return idx >= 0 ? here.slice(0, idx) : resolve(here, '..', '..');
}

export const repoRoot = findRoot();
export const fromRoot = (...parts: string[]): string => resolve(repoRoot, ...parts);
