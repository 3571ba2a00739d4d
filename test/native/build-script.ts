/** Typed access to scripts/build-native.mjs (loaded by path: it is not compiled into dist/). */
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../helpers/paths.js';

export type NativeVariant = 'release' | 'asan' | 'fuzz';

export interface NativeBuildResult {
  ok: boolean;
  path: string;
  error?: string;
  logPath?: string;
}

export interface BuildNativeModule {
  buildNative(opts: { variant: NativeVariant; quiet?: boolean }): Promise<NativeBuildResult>;
  buildFuzzer(opts?: { quiet?: boolean }): Promise<NativeBuildResult>;
  artifactPath(variant: NativeVariant): string;
  sanitizerPreload(buildDir?: string): { compiler: string; preload: string } | null;
}

export async function loadBuildScript(): Promise<BuildNativeModule> {
  return (await import(pathToFileURL(fromRoot('scripts', 'build-native.mjs')).href)) as BuildNativeModule;
}
