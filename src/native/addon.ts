// Loads the gatehouse_native addon (native/src/addon.cc), if it was built. Never throws: a missing or
// broken addon yields `addon: null` and a reason, and callers fall back to the TypeScript codec.
//
// Location: <repoRoot>/build/Release/gatehouse_native.node, or the file named by GATEHOUSE_NATIVE_PATH
// (the sanitizer test points it at build-asan/).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One framer instance inside the addon. push returns an offset, -1 (none) or -2 (error). */
export interface NativeFramerHandle {
  push(chunk: Uint8Array): number;
  errorCode(): number;
  errorOffset(): number;
  bytesSeen(): number;
}

export interface NativeAddon {
  Framer: new (
    maxElementLength: number,
    maxElements: number,
    maxInstructionBytes: number,
  ) => NativeFramerHandle;
  abiVersion: number;
}

export type AddonLoadResult =
  | { addon: NativeAddon; path: string; reason: string }
  | { addon: null; path: string; reason: string };

/** The addon ABI this TypeScript expects (addon.cc exports it as `abiVersion`). */
export const ADDON_ABI_VERSION = 1;

/** Repository root: this file runs as dist/src/native/addon.js (compiled) or src/native/addon.ts. */
function findRepoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up2 = resolve(here, '..', '..');
  return basename(up2) === 'dist' ? dirname(up2) : up2;
}

export const repoRoot = findRepoRoot();
export const DEFAULT_ADDON_PATH = resolve(repoRoot, 'build', 'Release', 'gatehouse_native.node');

/** The path the loader uses: GATEHOUSE_NATIVE_PATH if set, else the release build. */
export function addonPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.GATEHOUSE_NATIVE_PATH;
  return override ? resolve(override) : DEFAULT_ADDON_PATH;
}

/**
 * An addon built with AddressSanitizer aborts the whole process when loaded without the ASan runtime
 * preloaded ("ASan runtime does not come first"), which no try/catch can stop. Detect that case first.
 */
function asanProblem(path: string): string | null {
  let needsAsan: boolean;
  try {
    const bytes = readFileSync(path);
    needsAsan = bytes.includes('__asan_init') || bytes.includes('libasan.so');
  } catch {
    return null; // let require() report the real problem
  }
  if (!needsAsan) return null;
  let maps = '';
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    // not Linux: cannot tell; try anyway
    return null;
  }
  if (/libasan\.so|libclang_rt\.asan/.test(maps)) return null;
  return `${path} is a sanitizer build; load it with the ASan runtime in LD_PRELOAD (see docs/native.md)`;
}

let cached: AddonLoadResult | undefined;
let cachedPath: string | undefined;

/** Loads (once per path) and returns the addon, or null with the reason. */
export function loadNativeAddon(): AddonLoadResult {
  const path = addonPath();
  if (cached && cachedPath === path) return cached;
  cachedPath = path;
  cached = tryLoad(path);
  return cached;
}

function tryLoad(path: string): AddonLoadResult {
  if (!existsSync(path)) {
    return { addon: null, path, reason: `native addon not built (${path} missing)` };
  }
  const asan = asanProblem(path);
  if (asan) return { addon: null, path, reason: asan };
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)(path);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { addon: null, path, reason: `native addon failed to load: ${msg}` };
  }
  const addon = mod as Partial<NativeAddon> | null;
  if (!addon || typeof addon.Framer !== 'function') {
    return { addon: null, path, reason: `native addon at ${path} has no Framer export` };
  }
  if (addon.abiVersion !== ADDON_ABI_VERSION) {
    return {
      addon: null,
      path,
      reason: `native addon ABI ${String(addon.abiVersion)} != expected ${ADDON_ABI_VERSION}; rebuild it (npm run build:native)`,
    };
  }
  return { addon: addon as NativeAddon, path, reason: `native addon loaded from ${path}` };
}
