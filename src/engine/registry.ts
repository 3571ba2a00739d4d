/**
 * The protocol engines built into this Gatehouse, as served by `gatehouse engine` (and, later, by the proxy
 * role's connection managers). An engine is listed here once it implements ProtocolEngine (types.ts); the
 * VNC engine (src/engine/vnc) registers here.
 */
import type { ProtocolEngine } from './types.js';

/** A fresh list of the built-in engines, in the order `gatehouse engine` reports them. */
export function builtinEngines(): ProtocolEngine[] {
  return [];
}
