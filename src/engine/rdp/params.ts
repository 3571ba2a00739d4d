/**
 * The RDP engine's connection parameters: guacd's names (reference section 8) for what the engine implements,
 * in guacd's order, and their validation. An unknown name is rejected by the caller before this; an invalid
 * value is reported here naming the parameter (never quoting a secret). The native engine parses the values
 * itself: this only makes sure it is given nothing it would have to refuse.
 */
import type { ParamIssue } from '../types.js';

export const RDP_ARG_NAMES = [
  'hostname',
  'port',
  'timeout',
  'domain',
  'username',
  'password',
  'width',
  'height',
  'dpi',
  'initial-program',
  'color-depth',
  'disable-audio',
  'console',
  'server-layout',
  'security',
  'ignore-cert',
  'cert-fingerprints',
  'client-name',
  'enable-wallpaper',
  'enable-theming',
  'enable-font-smoothing',
  'enable-full-window-drag',
  'enable-desktop-composition',
  'enable-menu-animations',
  'disable-bitmap-caching',
  'disable-offscreen-caching',
  'disable-glyph-caching',
  'disable-gfx',
  'preconnection-id',
  'preconnection-blob',
  'resize-method',
  'read-only',
  'load-balance-info',
  'disable-copy',
  'disable-paste',
  'force-lossless',
  'enable-h264',
  'normalize-clipboard',
] as const;

export type RdpArgName = (typeof RDP_ARG_NAMES)[number];

/** guacd's `security` values this engine implements (guacd also has nla-ext and vmconnect). */
export const RDP_SECURITY_MODES = ['any', 'nla', 'tls', 'rdp'] as const;
/** guacd's `resize-method` values (all of them). */
export const RDP_RESIZE_METHODS = ['display-update', 'reconnect', 'none'] as const;
export const RDP_CLIPBOARD_NORMALIZATIONS = ['preserve', 'unix', 'windows'] as const;
/**
 * `server-layout` values the engine has a keymap for (native/rdp/keymaps/; guacd's names). `failsafe` sends
 * every character as a Unicode event. More layouts are more files there.
 */
export const RDP_SERVER_LAYOUTS = [
  'en-us-qwerty',
  'en-gb-qwerty',
  'de-de-qwertz',
  'fr-fr-azerty',
  'es-es-qwerty',
  'it-it-qwerty',
  'de-ch-qwertz',
  'sv-se-qwerty',
  'failsafe',
] as const;

const BOOLEAN_PARAMS: readonly RdpArgName[] = [
  'disable-audio',
  'console',
  'ignore-cert',
  'enable-wallpaper',
  'enable-theming',
  'enable-font-smoothing',
  'enable-full-window-drag',
  'enable-desktop-composition',
  'enable-menu-animations',
  'disable-bitmap-caching',
  'disable-offscreen-caching',
  'disable-glyph-caching',
  'disable-gfx',
  'read-only',
  'disable-copy',
  'disable-paste',
  'force-lossless',
  'enable-h264',
];

/** Integer parameters and their ranges (inclusive). */
const INTEGER_PARAMS: ReadonlyArray<[RdpArgName, number, number]> = [
  ['port', 1, 65_535],
  ['timeout', 1, 3600],
  ['width', 1, 8192],
  ['height', 1, 8192],
  ['dpi', 48, 1000],
  ['preconnection-id', 0, 4_294_967_295],
];

/** Free text and its most characters. */
const TEXT_PARAMS: ReadonlyArray<[RdpArgName, number]> = [
  ['domain', 256],
  ['username', 1024],
  ['password', 1024],
  ['initial-program', 1024],
  ['load-balance-info', 1024],
  ['preconnection-blob', 1024],
  // RDP carries 15 characters of it: the engine keeps the first 15 printable ASCII ones, as guacd truncates.
  ['client-name', 256],
];

/** Parameters whose value may be quoted in a message (the others may be secrets, or long). */
const QUOTABLE = new Set<string>([
  'hostname',
  ...BOOLEAN_PARAMS,
  ...INTEGER_PARAMS.map(([n]) => n),
  'color-depth',
  'security',
  'resize-method',
  'server-layout',
  'normalize-clipboard',
]);

const HOSTNAME = /^[A-Za-z0-9._:[\]-]{1,253}$/;
const BOOLEAN = new Set(['', 'true', 'false']);
/** A SHA-256 certificate fingerprint: 64 hex digits, colons between pairs optional, `sha256:` optional. */
const FINGERPRINT = /^(?:sha256:)?[0-9A-Fa-f]{2}(?::?[0-9A-Fa-f]{2}){31}$/i;
const MAX_FINGERPRINTS = 32;

const shown = (value: string): string => `'${value.length > 32 ? `${value.slice(0, 32)}...` : value}'`;
const oneOf = (values: readonly string[]): string =>
  `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;

/** Validates every given name (unknown names are the caller's); returns the issues, empty when valid. */
export function validateRdpParams(p: Readonly<Record<string, string>>): ParamIssue[] {
  const issues: ParamIssue[] = [];
  const bad = (name: string, message: string): void => {
    issues.push({ name, message: `invalid value for '${name}': ${message}` });
  };
  const value = (name: RdpArgName): string => p[name] ?? '';
  const is = (name: string): string => (QUOTABLE.has(name) ? `${shown(p[name] ?? '')} is` : 'the value is');

  for (const name of Object.keys(p)) {
    if ((p[name] ?? '').includes('\0')) bad(name, 'contains a NUL character');
  }
  const host = value('hostname');
  if (host === '') bad('hostname', 'required');
  else if (!HOSTNAME.test(host)) bad('hostname', `${shown(host)} is not a host name or address`);

  for (const name of BOOLEAN_PARAMS) {
    if (!BOOLEAN.has(value(name))) bad(name, `${is(name)} not true, false or empty`);
  }
  for (const [name, min, max] of INTEGER_PARAMS) {
    const v = value(name);
    if (v === '') continue;
    if (!/^\d{1,10}$/.test(v)) bad(name, `${is(name)} not a whole number`);
    else if (Number(v) < min || Number(v) > max) bad(name, `${v} is not in ${min}..${max}`);
  }
  for (const [name, max] of TEXT_PARAMS) {
    if ([...value(name)].length > max) bad(name, `longer than ${max} characters`);
  }
  const depth = value('color-depth');
  if (!['', '8', '16', '24', '32'].includes(depth))
    bad('color-depth', `${is('color-depth')} not 8, 16, 24 or 32`);
  const enums: ReadonlyArray<[RdpArgName, readonly string[]]> = [
    ['security', RDP_SECURITY_MODES],
    ['resize-method', RDP_RESIZE_METHODS],
    ['normalize-clipboard', RDP_CLIPBOARD_NORMALIZATIONS],
  ];
  for (const [name, values] of enums) {
    const v = value(name);
    if (v !== '' && !values.includes(v)) bad(name, `${is(name)} not ${oneOf(values)}`);
  }
  const layout = value('server-layout');
  if (layout !== '' && !(RDP_SERVER_LAYOUTS as readonly string[]).includes(layout)) {
    bad(
      'server-layout',
      `${shown(layout)} is not a layout this engine has (${RDP_SERVER_LAYOUTS.join(', ')})`,
    );
  }
  const pins = value('cert-fingerprints')
    .split(/[,;\s]+/)
    .filter((item) => item !== '');
  const wrong = pins.filter((item) => !FINGERPRINT.test(item));
  if (wrong.length > 0) {
    bad(
      'cert-fingerprints',
      `${wrong.length} item(s) not a SHA-256 fingerprint (64 hex digits, e.g. sha256:AB:CD:...): ${wrong.map(shown).join(', ')}`,
    );
  } else if (pins.length > MAX_FINGERPRINTS) {
    bad('cert-fingerprints', `more than ${MAX_FINGERPRINTS} fingerprints`);
  }
  if (/[\r\n]/.test(value('load-balance-info'))) bad('load-balance-info', 'contains a line break');
  return issues;
}
