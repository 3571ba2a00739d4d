/**
 * Guacamole protocol versions as negotiated in the guacd handshake (reference section 2): the server lists
 * its newest version first in `args`, the client answers with the version it will speak in the first
 * element of `connect`.
 */

/** Every version this server knows, oldest first. */
export const PROTOCOL_VERSIONS = [
  'VERSION_1_0_0',
  'VERSION_1_1_0',
  'VERSION_1_3_0',
  'VERSION_1_5_0',
] as const;

export type ProtocolVersion = (typeof PROTOCOL_VERSIONS)[number];

/** The version this server offers in `args`. */
export const SERVER_VERSION: ProtocolVersion = 'VERSION_1_5_0';

/** What a version adds over the ones before it. */
export const VERSION_FEATURES = {
  /** `timezone` in the handshake, parameters in any order (1.1.0). */
  timezone: 'VERSION_1_1_0',
  /** `required` instruction (1.3.0). */
  required: 'VERSION_1_3_0',
  /** `name` in the handshake and the `msg` instruction (1.5.0). */
  name: 'VERSION_1_5_0',
  msg: 'VERSION_1_5_0',
} as const satisfies Record<string, ProtocolVersion>;

export type VersionFeature = keyof typeof VERSION_FEATURES;

const SHAPE = /^VERSION_(\d{1,6})_(\d{1,6})_(\d{1,6})$/;

/** [major, minor, patch] of a `VERSION_x_y_z` string, or undefined for anything else. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const m = SHAPE.exec(text);
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const KNOWN = PROTOCOL_VERSIONS.map((v) => [v, parseVersion(v)!] as const);

/**
 * The version a client's answer (the first element of `connect`) selects:
 * - a known version: that version;
 * - another `VERSION_x_y_z` (a newer or in-between release): the newest known version not above it
 *   (1.0.0 for anything older);
 * - anything else, the empty string included: 1.0.0. A client that predates version negotiation takes
 *   `VERSION_1_5_0` in `args` for a parameter name and answers its value, normally "".
 */
export function resolveClientVersion(answer: string): ProtocolVersion {
  const parsed = parseVersion(answer);
  if (parsed === undefined) return 'VERSION_1_0_0';
  let best: ProtocolVersion = 'VERSION_1_0_0';
  for (const [name, v] of KNOWN) if (compare(v, parsed) <= 0) best = name;
  return best;
}

/** Whether `version` has `feature`. */
export function versionSupports(version: ProtocolVersion, feature: VersionFeature): boolean {
  return PROTOCOL_VERSIONS.indexOf(version) >= PROTOCOL_VERSIONS.indexOf(VERSION_FEATURES[feature]);
}
