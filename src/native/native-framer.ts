// The C++ framer (native/src/guac_framer.cc) behind the same Framer interface as the TypeScript one.
// Same acceptance, same GuacamoleProtocolError (code, offset, limit) at the same absolute byte.
import { protocolErrorFromCode } from '../protocol/guacamole/errors.js';
import type { Framer } from '../protocol/guacamole/framer.js';
import { type GuacamoleLimits, resolveLimits } from '../protocol/guacamole/limits.js';
import { loadNativeAddon, type NativeFramerHandle } from './addon.js';

const PUSH_ERROR = -2;

export class NativeGuacamoleFramer implements Framer {
  readonly limits: Readonly<GuacamoleLimits>;
  readonly #handle: NativeFramerHandle;

  /**
   * Unset limits default to guacd's (DEFAULT_LIMITS); invalid ones throw RangeError, as for
   * GuacamoleFramer. Throws an Error saying why when the addon is not available.
   */
  constructor(limits?: Partial<GuacamoleLimits>) {
    this.limits = resolveLimits(limits);
    const loaded = loadNativeAddon();
    if (!loaded.addon) throw new Error(`native Guacamole framer unavailable: ${loaded.reason}`);
    const { maxElementLength, maxElements, maxInstructionBytes } = this.limits;
    this.#handle = new loaded.addon.Framer(maxElementLength, maxElements, maxInstructionBytes);
  }

  /**
   * Offset within `chunk` just past the last instruction completed by it, or -1. Throws
   * GuacamoleProtocolError on malformed input, and again on every later call.
   */
  push(chunk: Uint8Array): number {
    const r = this.#handle.push(chunk);
    if (r === PUSH_ERROR) {
      throw protocolErrorFromCode(this.#handle.errorCode(), this.#handle.errorOffset(), this.limits);
    }
    return r;
  }

  /** Bytes pushed so far. */
  get bytesSeen(): number {
    return this.#handle.bytesSeen();
  }
}
