import { DEFAULT_LIMITS, type GuacamoleLimits } from './limits.js';

/** Scanner error codes; the numeric values are shared with the C++ framer (native/src/guac_framer.h). */
export enum ScanErrorCode {
  BAD_LENGTH = 1,
  ELEMENT_TOO_LONG = 2,
  TOO_MANY_ELEMENTS = 3,
  INSTRUCTION_TOO_LONG = 4,
  INVALID_UTF8 = 5,
  BAD_SEPARATOR = 6,
}

export type ScanErrorName = keyof typeof ScanErrorCode;

/** The limit behind a limit error. */
export type GuacamoleLimitName = keyof GuacamoleLimits;

const LIMIT_OF: Partial<Record<ScanErrorCode, GuacamoleLimitName>> = {
  [ScanErrorCode.ELEMENT_TOO_LONG]: 'maxElementLength',
  [ScanErrorCode.TOO_MANY_ELEMENTS]: 'maxElements',
  [ScanErrorCode.INSTRUCTION_TOO_LONG]: 'maxInstructionBytes',
};

const SUBJECT: Record<ScanErrorCode, string> = {
  [ScanErrorCode.BAD_LENGTH]: 'Guacamole element length is missing, not decimal or not followed by "."',
  [ScanErrorCode.ELEMENT_TOO_LONG]: 'Guacamole element exceeds',
  [ScanErrorCode.TOO_MANY_ELEMENTS]: 'Guacamole instruction exceeds',
  [ScanErrorCode.INSTRUCTION_TOO_LONG]: 'Guacamole instruction exceeds',
  [ScanErrorCode.INVALID_UTF8]: 'Guacamole element value is not well-formed UTF-8',
  [ScanErrorCode.BAD_SEPARATOR]: 'Guacamole element value is not followed by "," or ";"',
};

/** Malformed Guacamole input: which rule broke, and at which absolute byte of the stream. */
export class GuacamoleProtocolError extends Error {
  readonly code: ScanErrorCode;
  /** The code's name, e.g. 'ELEMENT_TOO_LONG'. */
  readonly codeName: ScanErrorName;
  /** Absolute stream offset (0-based, over everything fed) of the byte that caused the error. */
  readonly offset: number;
  /** For limit errors: the limit exceeded. */
  readonly limit: GuacamoleLimitName | undefined;
  /** For limit errors: that limit's value. */
  readonly limitValue: number | undefined;

  constructor(code: ScanErrorCode, offset: number, limits: Readonly<GuacamoleLimits> = DEFAULT_LIMITS) {
    const codeName = ScanErrorCode[code] as ScanErrorName | undefined;
    if (codeName === undefined) throw new RangeError(`unknown Guacamole scan error code ${String(code)}`);
    const limit = LIMIT_OF[code];
    const limitValue = limit === undefined ? undefined : limits[limit];
    const what = limit === undefined ? SUBJECT[code] : `${SUBJECT[code]} ${limit} (${limitValue})`;
    super(`${what} at byte ${offset}`);
    this.name = 'GuacamoleProtocolError';
    this.code = code;
    this.codeName = codeName;
    this.offset = offset;
    this.limit = limit;
    this.limitValue = limitValue;
  }
}

/**
 * Builds the error for a numeric scanner code (as reported by the C++ framer) at an absolute offset.
 * Throws RangeError for a code that is not a ScanErrorCode.
 */
export function protocolErrorFromCode(
  code: number,
  offset: number,
  limits: Readonly<GuacamoleLimits> = DEFAULT_LIMITS,
): GuacamoleProtocolError {
  return new GuacamoleProtocolError(code as ScanErrorCode, offset, limits);
}
