/** Per-instruction limits enforced by the Guacamole scanner (see docs/guacamole-codec.md). */
export interface GuacamoleLimits {
  /** Largest element length, in Unicode codepoints. */
  maxElementLength: number;
  /** Most elements in one instruction, the opcode included. */
  maxElements: number;
  /** Most bytes in one instruction, its terminating `;` included. */
  maxInstructionBytes: number;
}

/** guacd's own limits. */
export const DEFAULT_LIMITS: Readonly<GuacamoleLimits> = Object.freeze({
  maxElementLength: 8192,
  maxElements: 128,
  maxInstructionBytes: 32768,
});

const LIMIT_NAMES = ['maxElementLength', 'maxElements', 'maxInstructionBytes'] as const;

/**
 * Fills unset limits from DEFAULT_LIMITS and checks every limit is a non-negative safe integer
 * (throws RangeError otherwise). Returns a new frozen object.
 */
export function resolveLimits(overrides?: Partial<GuacamoleLimits>): Readonly<GuacamoleLimits> {
  const limits: GuacamoleLimits = { ...DEFAULT_LIMITS };
  for (const name of LIMIT_NAMES) {
    const value = overrides?.[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`Guacamole limit ${name} must be a non-negative integer, got ${String(value)}`);
    }
    limits[name] = value;
  }
  return Object.freeze(limits);
}
