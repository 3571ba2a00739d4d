/**
 * The protocol engines built into this Gatehouse, as served by `gatehouse engine` and the proxy role's
 * connection managers. VNC is always there; RDP when its native executable (engine.rdp.binary) can be run, so a
 * machine without FreeRDP still serves VNC.
 */
import type { GatehouseConfig } from '../config/schema.js';
import { RdpEngine, rdpEngineOptions } from './rdp/index.js';
import type { ProtocolEngine, SessionLogger } from './types.js';
import { VncEngine } from './vnc/index.js';

export interface EngineAvailability {
  protocol: string;
  available: boolean;
  /** What serves it (the RDP executable and the user it runs as), or why it is not available. */
  detail: string;
}

export interface BuiltinEngines {
  engines: ProtocolEngine[];
  availability: EngineAvailability[];
}

/** The built-in engines for this configuration (defaults without one), and which are available and why. */
export function loadBuiltinEngines(config?: Pick<GatehouseConfig, 'engine' | 'log'>): BuiltinEngines {
  const engines: ProtocolEngine[] = [new VncEngine()];
  const availability: EngineAvailability[] = [{ protocol: 'vnc', available: true, detail: 'built in' }];
  const rdp = new RdpEngine(config ? rdpEngineOptions(config) : {});
  const problem = rdp.unavailable();
  if (problem === undefined) {
    engines.push(rdp);
    const user = rdp.user ? `, as ${rdp.user.spec} (uid ${rdp.user.uid})` : '';
    availability.push({ protocol: 'rdp', available: true, detail: `${rdp.binary}${user}` });
  } else {
    availability.push({ protocol: 'rdp', available: false, detail: problem });
  }
  return { engines, availability };
}

/** A fresh list of the built-in engines, in the order `gatehouse engine` reports them. */
export function builtinEngines(config?: Pick<GatehouseConfig, 'engine' | 'log'>): ProtocolEngine[] {
  return loadBuiltinEngines(config).engines;
}

/** One log line per engine: available (and how), or not (and why). */
export function logEngineAvailability(log: SessionLogger, availability: readonly EngineAvailability[]): void {
  for (const a of availability) {
    if (a.available)
      log.info({ protocol: a.protocol, engine: a.detail }, `engine ${a.protocol}: available (${a.detail})`);
    else
      log.warn(
        { protocol: a.protocol, reason: a.detail },
        `engine ${a.protocol}: not available: ${a.detail}`,
      );
  }
}
