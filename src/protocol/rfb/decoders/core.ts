/** The decoders this module provides (the engine adds ZRLE and Tight to the same map). */
import { Encoding } from '../encodings.js';
import { copyRectDecoder } from './copyrect.js';
import { hextileDecoder } from './hextile.js';
import { rawDecoder } from './raw.js';
import { rreDecoder } from './rre.js';
import type { DecoderFactory } from './types.js';

export function coreDecoders(): Map<number, DecoderFactory> {
  return new Map<number, DecoderFactory>([
    [Encoding.Raw, rawDecoder],
    [Encoding.CopyRect, copyRectDecoder],
    [Encoding.RRE, rreDecoder],
    [Encoding.Hextile, hextileDecoder],
  ]);
}
