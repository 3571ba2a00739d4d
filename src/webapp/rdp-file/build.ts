/**
 * The .rdp file a thick client (mstsc, Windows App, xfreerdp, Remmina) downloads: it connects to an RDP
 * gateway of the server's zone and presents the one-time token as its routing token; the gateway resolves
 * the target from the token, injects the target's credentials and enforces the DLP policy. The redirect
 * settings written here tell the client not to offer what the gateway will refuse anyway.
 *
 * Every value is either a constant, a number, or checked: the gateway address and the token are refused
 * unless well-formed; free text (user name, domain) loses control characters (C0, DEL, C1), Unicode line and
 * paragraph separators and unpaired surrogates, and is refused when too long. So no value can end its line
 * and start another (`alternate shell:s:...` and friends). See docs/rdp-files.md for the fields.
 */
import { isIP } from 'node:net';
import type { DlpPolicy } from '../store/types.js';
import { FORBIDDEN_CHARS } from './settings.js';

export class RdpFileError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'RdpFileError';
  }
}

export interface RdpScreen {
  /** Full screen (default) or a window of width x height. */
  fullScreen?: boolean | undefined;
  width?: number | undefined;
  height?: number | undefined;
  /** Span all local monitors (default off). */
  multiMonitor?: boolean | undefined;
}

export interface RdpFileInput {
  /** host:port (or host) of the RDP gateway; IPv6 in brackets. */
  gatewayAddress: string;
  /** The one-time token, sent by the client as its routing token (`loadbalanceinfo`). Printable ASCII. */
  token: string;
  /** The server's display name: not written into the file (see `rdpFileName`). */
  serverName: string;
  dlp: DlpPolicy;
  /** Pre-filled user name / domain shown by the client; optional. */
  username?: string | undefined;
  domain?: string | undefined;
  screen?: RdpScreen | undefined;
  /**
   * 'gateway' (default): the gateway authenticates the token and injects the target's credentials, so the
   * client uses TLS only and never prompts. 'client': the client does NLA (CredSSP) and asks the user.
   */
  credentials?: 'gateway' | 'client' | undefined;
  /** What the client does when the gateway's certificate cannot be verified: 'warn' (default), 'refuse', 'ignore'. */
  serverAuthentication?: 'warn' | 'refuse' | 'ignore' | undefined;
}

export const RDP_CONTENT_TYPE = 'application/x-rdp';
export const MAX_TOKEN_LENGTH = 1024;
export const MAX_USERNAME_LENGTH = 256;
export const MAX_DOMAIN_LENGTH = 255;

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63})*\.?$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const STRIP = new RegExp(`${FORBIDDEN_CHARS.source}|[\\ufeff\\ufffe\\uffff]`, 'g');

/**
 * Free text made safe for an .rdp value: control characters, line/paragraph separators, BOM/non-characters
 * and unpaired surrogates removed, surrounding white space trimmed; longer than `max` → RdpFileError.
 */
export function sanitizeRdpValue(value: string, max: number, field: string): string {
  const clean = value.replace(LONE_SURROGATE, '').replace(STRIP, '').trim();
  if (clean.length > max) throw new RdpFileError(`${field} is longer than ${max} characters`, field);
  return clean;
}

/** `host:port` / `host` / `[v6]:port` / `[v6]` checked and returned as written. */
export function checkGatewayAddress(address: string): string {
  const field = 'gatewayAddress';
  const bad = (why: string): RdpFileError =>
    new RdpFileError(`gateway address "${address.slice(0, 80)}" ${why}`, field);
  if (address.length === 0 || address.length > 300) throw bad('is empty or too long');
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(address);
  if (!m) throw bad('is not host:port');
  const [, v6, host, port] = m;
  if (v6 !== undefined && isIP(v6) !== 6) throw bad('has an invalid IPv6 address');
  if (host !== undefined && isIP(host) !== 4 && (host.length > 253 || !HOST_NAME.test(host))) {
    throw bad('has an invalid host name');
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535))
    throw bad('has a port outside 1..65535');
  return address;
}

/**
 * The token as `loadbalanceinfo` value. Microsoft: the routing token's length (with the CRLF the client
 * appends) must be even — "add a space if necessary". An odd-length token gets one trailing space, which the
 * gateway strips (tokens never contain spaces).
 */
export function loadBalanceInfo(token: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new RdpFileError('token must be printable ASCII without spaces or control characters', 'token');
  }
  if (token.length > MAX_TOKEN_LENGTH)
    throw new RdpFileError(`token is longer than ${MAX_TOKEN_LENGTH}`, 'token');
  return token.length % 2 === 0 ? token : `${token} `;
}

function screenSize(v: number | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 200 || v > 8192)
    throw new RdpFileError(`${field} must be an integer 200..8192`, field);
  return v;
}

const flag = (on: boolean): string => (on ? '1' : '0');

/** The .rdp text (CRLF line ends, unsigned). Throws RdpFileError naming the bad input. */
export function buildRdpFile(input: RdpFileInput): string {
  const address = checkGatewayAddress(input.gatewayAddress);
  const lbi = loadBalanceInfo(input.token);
  const username = sanitizeRdpValue(input.username ?? '', MAX_USERNAME_LENGTH, 'username');
  const domain = sanitizeRdpValue(input.domain ?? '', MAX_DOMAIN_LENGTH, 'domain');
  const { dlp } = input;
  const screen = input.screen ?? {};
  const width = screenSize(screen.width, 'screen.width');
  const height = screenSize(screen.height, 'screen.height');
  const windowed = screen.fullScreen === false;
  const gatewayCreds = (input.credentials ?? 'gateway') === 'gateway';
  const authLevel = { warn: 2, refuse: 1, ignore: 0 }[input.serverAuthentication ?? 'warn'];

  const lines: [string, 's' | 'i', string | number][] = [
    // Where to connect: the gateway (both addresses, so an added `alternate full address` cannot redirect).
    ['full address', 's', address],
    ['alternate full address', 's', address],
    // The one-time token, sent before TLS as the X.224 routing token; the gateway finds the target by it.
    ['loadbalanceinfo', 's', lbi],
    // Not Microsoft's RD Gateway (MS-TSGU): connect directly, ignoring any gateway the client has set.
    ['gatewayusagemethod', 'i', 0],
    ['gatewayprofileusagemethod', 'i', 1],
    // Security: negotiate TLS; NLA only when the client brings credentials (see `credentials`).
    ['negotiate security layer', 'i', 1],
    ['enablecredsspsupport', 'i', flag(!gatewayCreds)],
    ['prompt for credentials', 'i', 0],
    ['promptcredentialonce', 'i', 0],
    // 2 = warn when the gateway's certificate cannot be verified, 1 = do not connect, 0 = connect silently.
    ['authentication level', 'i', authLevel],
    ['autoreconnection enabled', 'i', 1],
    // DLP: the client offers only what the policy allows; the gateway enforces it either way.
    // RDP has one clipboard switch for both directions; the gateway filters each direction.
    ['redirectclipboard', 'i', flag(dlp.clipboardUp || dlp.clipboardDown)],
    ['redirectdrives', 'i', flag(dlp.drives)],
    ['drivestoredirect', 's', dlp.drives ? '*' : ''],
    ['redirectprinters', 'i', flag(dlp.printing)],
    ['redirectsmartcards', 'i', flag(dlp.smartCard)],
    ['usbdevicestoredirect', 's', dlp.usb ? '*' : ''],
    ['devicestoredirect', 's', dlp.usb ? '*' : ''],
    ['camerastoredirect', 's', dlp.webcam ? '*' : ''],
    // 0 = play on this computer, 2 = do not play; the microphone follows the same switch.
    ['audiomode', 'i', dlp.audio ? 0 : 2],
    ['audiocapturemode', 'i', flag(dlp.audio)],
    // No policy key covers serial and point-of-service devices: never redirected.
    ['redirectcomports', 'i', 0],
    ['redirectposdevices', 'i', 0],
    // Display and experience.
    ['screen mode id', 'i', windowed ? 1 : 2],
    ...(windowed && width !== undefined ? [['desktopwidth', 'i', width] as [string, 'i', number]] : []),
    ...(windowed && height !== undefined ? [['desktopheight', 'i', height] as [string, 'i', number]] : []),
    ['use multimon', 'i', flag(screen.multiMonitor === true)],
    ['dynamic resolution', 'i', 1],
    ['smart sizing', 'i', 0],
    ['session bpp', 'i', 32],
    ['compression', 'i', 1],
    ['connection type', 'i', 7],
    ['networkautodetect', 'i', 1],
    ['bandwidthautodetect', 'i', 1],
    ['displayconnectionbar', 'i', 1],
    ['keyboardhook', 'i', 2],
    ...(username !== '' ? [['username', 's', username] as [string, 's', string]] : []),
    ...(domain !== '' ? [['domain', 's', domain] as [string, 's', string]] : []),
  ];
  const text = lines.map(([name, type, value]) => `${name}:${type}:${value}`);
  // Defence in depth: whatever changes above, no line may carry a line break or control character.
  for (const line of text) {
    if (FORBIDDEN_CHARS.test(line))
      throw new RdpFileError('internal: a value contains a control character', 'value');
  }
  return `${text.join('\r\n')}\r\n`;
}

/** The bytes to send: UTF-16LE with a byte-order mark, the encoding mstsc and rdpsign.exe use. */
export function encodeRdpFile(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

/** A safe download name for the server's file: `<name>.rdp` with only [A-Za-z0-9._-]. */
export function rdpFileName(serverName: string): string {
  const base = serverName
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 64);
  return `${base || 'server'}.rdp`;
}
