// Chooses between the TypeScript and the C++ Guacamole framer.
//
//   impl 'ts'      always the TypeScript framer
//   impl 'native'  the C++ addon; throws an Error saying why when it is not available
//   impl 'auto'    the addon when it loaded, else TypeScript
//
// The choice comes from opts.impl, else the GATEHOUSE_CODEC_IMPL environment variable, else 'auto'.
// (The config file's codec.impl is passed in as opts.impl by whoever reads the config.)
import { type Framer, GuacamoleFramer } from '../protocol/guacamole/framer.js';
import type { GuacamoleLimits } from '../protocol/guacamole/limits.js';
import { loadNativeAddon } from './addon.js';
import { NativeGuacamoleFramer } from './native-framer.js';

export const FRAMER_IMPLS = ['auto', 'ts', 'native'] as const;
export type FramerImplChoice = (typeof FRAMER_IMPLS)[number];

export interface CreateFramerOptions {
  impl?: FramerImplChoice;
  limits?: Partial<GuacamoleLimits>;
}

export interface FramerImplementation {
  impl: 'ts' | 'native';
  reason: string;
}

function requested(
  opts: CreateFramerOptions,
  env: NodeJS.ProcessEnv,
): { choice: FramerImplChoice; from: string } {
  if (opts.impl !== undefined) {
    if (!FRAMER_IMPLS.includes(opts.impl)) {
      throw new Error(
        `unknown framer implementation '${String(opts.impl)}' (expected ${FRAMER_IMPLS.join(', ')})`,
      );
    }
    return { choice: opts.impl, from: 'requested' };
  }
  const fromEnv = env.GATEHOUSE_CODEC_IMPL?.trim();
  if (fromEnv) {
    if (!(FRAMER_IMPLS as readonly string[]).includes(fromEnv)) {
      throw new Error(`GATEHOUSE_CODEC_IMPL='${fromEnv}' is not one of ${FRAMER_IMPLS.join(', ')}`);
    }
    return { choice: fromEnv as FramerImplChoice, from: 'GATEHOUSE_CODEC_IMPL' };
  }
  return { choice: 'auto', from: 'default' };
}

/**
 * Which framer createFramer(opts) builds, and why. Throws like createFramer when 'native' is required
 * but unavailable, or when the requested implementation is not a known name.
 */
export function framerImplementation(
  opts: Pick<CreateFramerOptions, 'impl'> = {},
  env: NodeJS.ProcessEnv = process.env,
): FramerImplementation {
  const { choice, from } = requested(opts, env);
  if (choice === 'ts') return { impl: 'ts', reason: `TypeScript framer (${from}: ts)` };
  const loaded = loadNativeAddon();
  if (loaded.addon) return { impl: 'native', reason: `C++ framer (${from}: ${choice}); ${loaded.reason}` };
  if (choice === 'native') {
    throw new Error(`native Guacamole framer required (${from}: native) but unavailable: ${loaded.reason}`);
  }
  return { impl: 'ts', reason: `TypeScript framer (${from}: auto); ${loaded.reason}` };
}

/** A new framer of the selected implementation (see the module comment). */
export function createFramer(opts: CreateFramerOptions = {}, env: NodeJS.ProcessEnv = process.env): Framer {
  const { impl } = framerImplementation(opts, env);
  return impl === 'native' ? new NativeGuacamoleFramer(opts.limits) : new GuacamoleFramer(opts.limits);
}
