/**
 * The tunnel's connect data (the WebSocket URL's query string) → the token and the browser's display
 * facts. Whitelist only: `token`, `width`, `height`, `dpi`, `audio`, `video`, `image`, `timezone`, and
 * guacamole-client's `GUAC_WIDTH`, `GUAC_HEIGHT`, `GUAC_DPI`, `GUAC_AUDIO`, `GUAC_VIDEO`, `GUAC_IMAGE`,
 * `GUAC_TIMEZONE`. Nothing else reaches the backend; other names are listed in `ignored` for the log.
 *
 * Rules: a plain name wins over its GUAC_ twin when both are present. An empty value is the same as
 * absent. A whitelisted value that is invalid, or a single-valued name given twice, is CLIENT_BAD_REQUEST
 * (0x0300), as is a query over MAX_CONNECT_DATA_LENGTH. A missing or empty token is CLIENT_UNAUTHORIZED
 * (0x0301). Mimetype lists may repeat the name (as guacamole-client does) and/or separate entries with
 * commas (a comma inside parameters, as in `audio/L16;rate=44100,channels=2`, stays in its entry).
 */
import type { ClientInfo } from '../../engine/types.js';
import { STATUS } from '../../protocol/guacamole/status.js';
import { TunnelError } from '../types.js';

export interface ConnectData {
  token: string;
  client: ClientInfo;
  /** Names in the query that are not whitelisted (deduplicated, each cut to 64 characters, at most 32). */
  ignored: string[];
}

export const MAX_CONNECT_DATA_LENGTH = 8192;
export const MAX_DIMENSION = 16384;
export const MAX_MIMETYPES = 64;
export const MAX_MIMETYPE_LENGTH = 256;
export const DEFAULT_WIDTH = 1024;
export const DEFAULT_HEIGHT = 768;
export const DEFAULT_DPI = 96;
export const DEFAULT_IMAGE_TYPES: readonly string[] = Object.freeze(['image/png', 'image/jpeg']);
export const PROTOCOL_VERSION = 'VERSION_1_5_0';

const SCALARS = ['width', 'height', 'dpi', 'timezone'] as const;
const LISTS = ['audio', 'video', 'image'] as const;
type Scalar = (typeof SCALARS)[number];
type List = (typeof LISTS)[number];
type Known = 'token' | Scalar | List;

/** Query name → the parameter it sets, and whether it is a GUAC_ twin. */
const NAMES = new Map<string, { param: Known; twin: boolean }>([
  ['token', { param: 'token', twin: false }],
  ...[...SCALARS, ...LISTS].flatMap((p) => [
    [p, { param: p, twin: false }] as const,
    [`GUAC_${p.toUpperCase()}`, { param: p, twin: true }] as const,
  ]),
]);

const MAX_IGNORED = 32;
const MAX_IGNORED_NAME = 64;

const DIMENSION = /^\d{1,5}$/;
const TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
const MIMETYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:\\s*;[A-Za-z0-9!#$%&'*+.^_\`|~=;,\\s"-]*)?$`);
/** Where a comma starts a new mimetype (and not a parameter of the previous one). */
const MIME_SPLIT = new RegExp(`,(?=\\s*${TOKEN}/)`);
const TIMEZONE = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+){0,3}$/;
const MAX_TIMEZONE_LENGTH = 64;

function bad(message: string): TunnelError {
  return new TunnelError(STATUS.CLIENT_BAD_REQUEST, message);
}

/** Parses the connect data; throws TunnelError (see the module comment). A leading '?' is allowed. */
export function parseConnectData(query: string): ConnectData {
  if (query.length > MAX_CONNECT_DATA_LENGTH + 1) {
    throw bad(`Connect data too long (over ${MAX_CONNECT_DATA_LENGTH} characters)`);
  }
  const q = query.startsWith('?') ? query.slice(1) : query;
  if (q.length > MAX_CONNECT_DATA_LENGTH) {
    throw bad(`Connect data too long (over ${MAX_CONNECT_DATA_LENGTH} characters)`);
  }

  const plain = new Map<Known, string[]>();
  const twins = new Map<Known, string[]>();
  const ignored = new Set<string>();
  for (const [name, value] of new URLSearchParams(q)) {
    const known = NAMES.get(name);
    if (known === undefined) {
      if (ignored.size < MAX_IGNORED) ignored.add(name.slice(0, MAX_IGNORED_NAME));
      continue;
    }
    const into = known.twin ? twins : plain;
    const values = into.get(known.param);
    if (values === undefined) into.set(known.param, [value]);
    else values.push(value);
  }
  const valuesOf = (p: Known): string[] => {
    const given = (plain.get(p) ?? []).filter((v) => v !== '');
    return given.length > 0 ? given : (twins.get(p) ?? []).filter((v) => v !== '');
  };
  const scalar = (p: Known): string | undefined => {
    const values = valuesOf(p);
    if (values.length > 1) throw bad(`Connect data parameter ${p} given more than once`);
    return values[0];
  };

  const tokens = plain.get('token') ?? [];
  if (tokens.length > 1) throw bad('Connect data parameter token given more than once');
  const token = tokens[0] ?? '';
  if (token === '') throw new TunnelError(STATUS.CLIENT_UNAUTHORIZED, 'No token in the connect data');

  const client: ClientInfo = {
    width: dimension('width', scalar('width'), DEFAULT_WIDTH),
    height: dimension('height', scalar('height'), DEFAULT_HEIGHT),
    dpi: dimension('dpi', scalar('dpi'), DEFAULT_DPI),
    audio: mimetypes('audio', valuesOf('audio')),
    video: mimetypes('video', valuesOf('video')),
    image: mimetypes('image', valuesOf('image')),
    protocolVersion: PROTOCOL_VERSION,
  };
  if (client.image.length === 0) client.image = [...DEFAULT_IMAGE_TYPES];
  const timezone = scalar('timezone');
  if (timezone !== undefined) {
    if (timezone.length > MAX_TIMEZONE_LENGTH || !TIMEZONE.test(timezone)) {
      throw bad('Connect data parameter timezone is not a time zone name');
    }
    client.timezone = timezone;
  }
  return { token, client, ignored: [...ignored] };
}

function dimension(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = DIMENSION.test(value) ? Number(value) : 0;
  if (n < 1 || n > MAX_DIMENSION) {
    throw bad(`Connect data parameter ${name} must be an integer from 1 to ${MAX_DIMENSION}`);
  }
  return n;
}

function mimetypes(name: string, values: string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const piece of value.split(MIME_SPLIT)) {
      const type = piece.trim();
      if (type === '') continue;
      if (type.length > MAX_MIMETYPE_LENGTH || !MIMETYPE.test(type)) {
        throw bad(`Connect data parameter ${name} holds an invalid mimetype`);
      }
      if (out.includes(type)) continue;
      if (out.length === MAX_MIMETYPES)
        throw bad(`Connect data parameter ${name} lists over ${MAX_MIMETYPES} mimetypes`);
      out.push(type);
    }
  }
  return out;
}
