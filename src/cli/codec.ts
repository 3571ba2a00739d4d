// Which Guacamole framer this process uses, as decided by src/native/select-framer.ts (imported
// dynamically: it may not be built in this version, and then the TypeScript framer is the answer).
import type { CodecImpl } from '../config/sections/codec.js';

export interface CodecChoice {
  impl: 'ts' | 'native';
  reason: string;
  /** The selector module: used, not in this build, or present but failed to load (a warning). */
  selector: 'ok' | 'missing' | 'failed';
}

const SELECTOR_URL = new URL('../native/select-framer.js', import.meta.url);

interface SelectorModule {
  framerImplementation(opts?: { impl?: CodecImpl }): { impl: 'ts' | 'native'; reason: string };
}

/**
 * The framer the configuration selects: codec.impl is passed to the selector (which otherwise falls back to
 * GATEHOUSE_CODEC_IMPL). Throws when codec.impl is native and the addon is unavailable.
 */
export async function detectCodec(requested: CodecImpl): Promise<CodecChoice> {
  let mod: Partial<SelectorModule>;
  try {
    mod = (await import(SELECTOR_URL.href)) as Partial<SelectorModule>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing = e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('select-framer');
    return {
      impl: 'ts',
      selector: missing ? 'missing' : 'failed',
      reason: missing
        ? 'codec selector src/native/select-framer is not in this build'
        : `codec selector failed to load: ${e.message}`,
    };
  }
  if (typeof mod.framerImplementation !== 'function') {
    return { impl: 'ts', selector: 'failed', reason: 'codec selector has no framerImplementation()' };
  }
  const choice = mod.framerImplementation({ impl: requested }); // throws when native is required but unavailable
  return { impl: choice.impl, reason: choice.reason, selector: 'ok' };
}
