/**
 * The protocol engines built into this Gatehouse, as served by `gatehouse engine` (and, later, by the proxy
 * role's connection managers). An engine is listed here once it implements ProtocolEngine (types.ts).
 */
import type { ProtocolEngine } from './types.js';
import { VncEngine } from './vnc/index.js';

/** A fresh list of the built-in engines, in the order `gatehouse engine` reports them. */
export function builtinEngines(): ProtocolEngine[] {
  return [new VncEngine()];
}
