/**
 * RFB encoding numbers, guacd's names for the `encodings` parameter, and the SetEncodings list the
 * client sends (real encodings in the user's order, then the pseudo-encodings we understand).
 */

export const Encoding = {
  Raw: 0,
  CopyRect: 1,
  RRE: 2,
  CoRRE: 4,
  Hextile: 5,
  Zlib: 6,
  Tight: 7,
  Ultra: 9,
  ZRLE: 16,
} as const;

export const PseudoEncoding = {
  Cursor: -239,
  DesktopSize: -223,
  LastRect: -224,
  ExtendedDesktopSize: -308,
  /** 0xC0A1E5CE as a signed 32-bit number. */
  ExtendedClipboard: 0xc0a1e5ce | 0,
  /** Tight JPEG quality level 0..9 is QualityLevel0 + level (-32..-23). */
  QualityLevel0: -32,
  /** Tight/zlib compression level 0..9 is CompressLevel0 + level (-256..-247). */
  CompressLevel0: -256,
} as const;

/** guacd's `encodings` names, in the order guacd documents them. */
export const GUACD_ENCODING_NAMES: Readonly<Record<string, number>> = {
  zrle: Encoding.ZRLE,
  ultra: Encoding.Ultra,
  copyrect: Encoding.CopyRect,
  hextile: Encoding.Hextile,
  zlib: Encoding.Zlib,
  corre: Encoding.CoRRE,
  rre: Encoding.RRE,
  raw: Encoding.Raw,
  tight: Encoding.Tight,
};

/** guacd's default when `encodings` is empty or absent. */
export const GUACD_DEFAULT_ENCODINGS = 'zrle ultra copyrect hextile zlib corre rre raw';

/** The encodings Gatehouse implements (core decoders plus the engine's ZRLE and Tight). */
export const IMPLEMENTED_ENCODINGS: ReadonlySet<number> = new Set([
  Encoding.Raw,
  Encoding.CopyRect,
  Encoding.RRE,
  Encoding.Hextile,
  Encoding.ZRLE,
  Encoding.Tight,
]);

export interface ParsedEncodings {
  /** Implemented encodings, in the order given, without duplicates. */
  encodings: number[];
  /** Known guacd names we do not implement (not sent; worth a warning). */
  skipped: string[];
  /** Names guacd does not know (the parameter is invalid when this is non-empty). */
  unknown: string[];
}

/**
 * Parses guacd's space-separated `encodings` value (case-insensitive; empty means guacd's default).
 * Raw is always appended if missing: servers may send it whatever the client asked for.
 */
export function parseEncodingsParam(
  value: string | undefined,
  implemented: ReadonlySet<number> = IMPLEMENTED_ENCODINGS,
): ParsedEncodings {
  const text = value === undefined || value.trim() === '' ? GUACD_DEFAULT_ENCODINGS : value;
  const out: ParsedEncodings = { encodings: [], skipped: [], unknown: [] };
  for (const raw of text.trim().split(/\s+/)) {
    const name = raw.toLowerCase();
    const num = Object.hasOwn(GUACD_ENCODING_NAMES, name) ? GUACD_ENCODING_NAMES[name] : undefined;
    if (num === undefined) {
      if (!out.unknown.includes(raw)) out.unknown.push(raw);
    } else if (!implemented.has(num)) {
      if (!out.skipped.includes(name)) out.skipped.push(name);
    } else if (!out.encodings.includes(num)) {
      out.encodings.push(num);
    }
  }
  if (!out.encodings.includes(Encoding.Raw)) out.encodings.push(Encoding.Raw);
  return out;
}

/** The message for an `encodings` value with unknown names, naming them. */
export function unknownEncodingsMessage(unknown: readonly string[]): string {
  return (
    `unknown encoding${unknown.length === 1 ? '' : 's'} in "encodings": ${unknown.join(', ')} ` +
    `(known: ${Object.keys(GUACD_ENCODING_NAMES).join(' ')})`
  );
}

export interface EncodingListOptions {
  /** Real encodings in preference order (already filtered to those with a decoder). */
  encodings: readonly number[];
  /** Ask for the Cursor pseudo-encoding (guacd `cursor` not "remote"). */
  cursor: boolean;
  /** Ask for the extended clipboard (a handler is installed). */
  extendedClipboard: boolean;
  /** Tight JPEG quality 0..9 (only sent when Tight is requested). */
  qualityLevel?: number | undefined;
  /** Compression level 0..9 (only sent when Tight is requested). */
  compressLevel?: number | undefined;
}

/** The full SetEncodings list: real encodings first, then pseudo-encodings. */
export function buildEncodingList(o: EncodingListOptions): number[] {
  const list = [...o.encodings];
  const tight = list.includes(Encoding.Tight);
  if (tight && isLevel(o.qualityLevel)) list.push(PseudoEncoding.QualityLevel0 + o.qualityLevel);
  if (tight && isLevel(o.compressLevel)) list.push(PseudoEncoding.CompressLevel0 + o.compressLevel);
  if (o.cursor) list.push(PseudoEncoding.Cursor);
  list.push(PseudoEncoding.ExtendedDesktopSize, PseudoEncoding.DesktopSize, PseudoEncoding.LastRect);
  if (o.extendedClipboard) list.push(PseudoEncoding.ExtendedClipboard);
  return list;
}

function isLevel(n: number | undefined): n is number {
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 9;
}

/** A readable name for an encoding number (for log lines and error messages). */
export function encodingName(n: number): string {
  for (const [name, num] of Object.entries(GUACD_ENCODING_NAMES)) if (num === n) return name;
  for (const [name, num] of Object.entries(PseudoEncoding)) if (num === n) return name;
  if (n >= -32 && n <= -23) return `QualityLevel${n + 32}`;
  if (n >= -256 && n <= -247) return `CompressLevel${n + 256}`;
  return `encoding ${n}`;
}
