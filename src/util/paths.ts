import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository (or install) root. This file runs compiled as `dist/src/util/paths.js`, three levels
 * below the root.
 */
export const repoRoot: string = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

export const fromRoot = (...parts: string[]): string => resolve(repoRoot, ...parts);
