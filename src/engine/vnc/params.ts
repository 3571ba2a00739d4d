/**
 * The VNC engine's connection parameters, by guacd's names, validated into a typed form. An unknown
 * name is rejected by the listener before this; an invalid value is reported here naming the parameter.
 */
import { parseEncodingsParam } from '../../protocol/rfb/encodings.js';
import type { ParamIssue } from '../types.js';

export const VNC_ARG_NAMES = [
  'hostname',
  'port',
  'read-only',
  'encodings',
  'username',
  'password',
  'swap-red-blue',
  'color-depth',
  'cursor',
  'clipboard-encoding',
  'disable-copy',
  'disable-paste',
  'force-lossless',
] as const;

export type ClipboardEncoding = 'ISO8859-1' | 'UTF-8' | 'UTF-16' | 'CP1252';

export interface VncParams {
  hostname: string;
  port: number;
  readOnly: boolean;
  encodings: number[];
  skippedEncodings: string[];
  username: string;
  password: string;
  swapRedBlue: boolean;
  colorDepth: 8 | 16 | 24 | 32;
  /** 'remote': the server draws the cursor into the framebuffer; 'local': Cursor pseudo-encoding. */
  cursor: 'local' | 'remote';
  clipboardEncoding: ClipboardEncoding;
  disableCopy: boolean;
  disablePaste: boolean;
  forceLossless: boolean;
}

const MAX_TEXT = 1024;
const HOSTNAME = /^[A-Za-z0-9._:[\]-]{1,253}$/;
const BOOLEAN = new Set(['', 'true', 'false']);
const CLIPBOARD_ENCODINGS = new Set<string>(['ISO8859-1', 'UTF-8', 'UTF-16', 'CP1252']);

/** Validates; returns the issues (empty when valid). */
export function validateVncParams(p: Readonly<Record<string, string>>): ParamIssue[] {
  const issues: ParamIssue[] = [];
  const bad = (name: string, message: string): void => {
    issues.push({ name, message: `invalid value for '${name}': ${message}` });
  };
  const host = p.hostname ?? '';
  if (host === '') bad('hostname', 'required');
  else if (!HOSTNAME.test(host)) bad('hostname', `'${host.slice(0, 64)}' is not a host name or address`);
  const port = p.port ?? '';
  if (port !== '' && !/^\d{1,5}$/.test(port)) bad('port', `'${port.slice(0, 16)}' is not a port number`);
  else if (port !== '' && (Number(port) < 1 || Number(port) > 65535))
    bad('port', `${port} is not in 1..65535`);
  for (const name of ['read-only', 'swap-red-blue', 'disable-copy', 'disable-paste', 'force-lossless']) {
    const v = p[name] ?? '';
    if (!BOOLEAN.has(v)) bad(name, `'${v.slice(0, 16)}' is not true, false or empty`);
  }
  const depth = p['color-depth'] ?? '';
  if (!['', '8', '16', '24', '32'].includes(depth))
    bad('color-depth', `'${depth.slice(0, 16)}' is not 8, 16, 24 or 32`);
  const cursor = p.cursor ?? '';
  if (!['', 'local', 'remote'].includes(cursor))
    bad('cursor', `'${cursor.slice(0, 16)}' is not local or remote`);
  const cb = p['clipboard-encoding'] ?? '';
  if (cb !== '' && !CLIPBOARD_ENCODINGS.has(cb)) {
    bad('clipboard-encoding', `'${cb.slice(0, 16)}' is not one of ${[...CLIPBOARD_ENCODINGS].join(', ')}`);
  }
  const enc = parseEncodingsParam(p.encodings);
  if (enc.unknown.length > 0) bad('encodings', `unknown encoding(s) ${enc.unknown.join(', ')}`);
  for (const name of ['username', 'password']) {
    if ((p[name] ?? '').length > MAX_TEXT) bad(name, `longer than ${MAX_TEXT} characters`);
  }
  return issues;
}

/** Converts already validated parameters. */
export function parseVncParams(p: Readonly<Record<string, string>>): VncParams {
  const bool = (name: string): boolean => p[name] === 'true';
  const enc = parseEncodingsParam(p.encodings);
  const depth = Number(p['color-depth'] || 24);
  return {
    hostname: p.hostname ?? '',
    port: Number(p.port || 5900),
    readOnly: bool('read-only'),
    encodings: enc.encodings,
    skippedEncodings: enc.skipped,
    username: p.username ?? '',
    password: p.password ?? '',
    swapRedBlue: bool('swap-red-blue'),
    colorDepth: (depth === 8 || depth === 16 || depth === 32 ? depth : 24) as VncParams['colorDepth'],
    cursor: p.cursor === 'remote' ? 'remote' : 'local',
    clipboardEncoding: (p['clipboard-encoding'] || 'ISO8859-1') as ClipboardEncoding,
    disableCopy: bool('disable-copy'),
    disablePaste: bool('disable-paste'),
    forceLossless: bool('force-lossless'),
  };
}
