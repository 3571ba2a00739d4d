/**
 * The address of an external guacd in a target: `guacd://HOST:PORT`, HOST a DNS name, an IPv4 address or an
 * IPv6 address in brackets (`guacd://[::1]:4822`). The port may be left out (guacd's 4822). Nothing else is
 * accepted: no user info, path, query or fragment.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { STATUS } from '../../protocol/guacamole/status.js';
import { TunnelError } from '../types.js';

/** guacd's own port, used when the address names none. */
export const DEFAULT_GUACD_PORT = 4822;

export interface GuacdAddress {
  /** Host name or address to connect to (IPv6 without brackets). */
  host: string;
  port: number;
}

/** A TunnelError whose `detail` is for the log only (the message is what the browser sees). */
export class BackendError extends TunnelError {
  constructor(
    status: number,
    message: string,
    readonly detail?: string,
  ) {
    super(status, message);
    this.name = 'BackendError';
  }
}

const SHAPE = /^guacd:\/\/(\[[^\]]*\]|[^:/?#@[\]]*)(?::(\d{1,5}))?\/?$/i;
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function isHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  return name.split('.').every((label) => LABEL.test(label));
}

/**
 * Parses a `guacd://host:port` address. Throws BackendError with UPSTREAM_NOT_FOUND (0x0207) when it is not
 * one: the message is generic (the target is misconfigured), the detail says what is wrong.
 */
export function parseGuacdAddress(address: string): GuacdAddress {
  const bad = (why: string): BackendError =>
    new BackendError(
      STATUS.UPSTREAM_NOT_FOUND,
      'The remote desktop server is not configured correctly',
      `invalid guacd address ${JSON.stringify(String(address).slice(0, 128))}: ${why}`,
    );
  if (typeof address !== 'string') throw bad('not a string');
  const m = SHAPE.exec(address);
  if (m === null) throw bad('expected guacd://HOST:PORT (IPv6 in brackets)');
  let host = m[1]!;
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (!isIPv6(host)) throw bad('the bracketed host is not an IPv6 address');
  } else if (!isIPv4(host) && !isHostName(host)) {
    throw bad('the host is not a host name or an IPv4 address');
  }
  const port = m[2] === undefined ? DEFAULT_GUACD_PORT : Number(m[2]);
  if (port < 1 || port > 65_535) throw bad(`port ${port} is not in 1..65535`);
  return { host, port };
}
