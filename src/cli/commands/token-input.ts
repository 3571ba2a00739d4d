// Turning `gatehouse token` options into a target and a policy; each problem names the option at fault.
import { GUACD_PATTERN, LIMITS, PARAM_NAME_PATTERN, PROTOCOL_PATTERN } from '../../proxy/auth/schemas.js';
import type { Policy, Target } from '../../proxy/types.js';

/** A bad option value: the message names the option. Exit status 2. */
export class OptionError extends Error {
  override readonly name = 'OptionError';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`invalid value for --${option}: ${detail}`);
  }
}

/** Default ports of the protocols whose port may be left out of --target. */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = { vnc: 5900, rdp: 3389, ssh: 22, telnet: 23 };

/** --policy names and the Policy flag each sets. */
export const POLICY_NAMES: Readonly<Record<string, keyof Policy>> = {
  'read-only': 'readOnly',
  'disable-copy': 'disableCopy',
  'disable-paste': 'disablePaste',
  'disable-download': 'disableDownload',
  'disable-upload': 'disableUpload',
};

const HOST = '(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)';
const TARGET = new RegExp(`^([^:/]+)://${HOST}(?::(\\d{1,5}))?/?$`);

/** PROTOCOL://HOST[:PORT] → protocol, hostname and port params. */
export function parseTarget(value: string): { protocol: string; hostname: string; port: number } {
  const m = TARGET.exec(value);
  if (m === null) {
    throw new OptionError('target', `'${value}' (expected PROTOCOL://HOST[:PORT], e.g. vnc://10.0.0.5:5900)`);
  }
  const [, protocol, host, portText] = m as unknown as [string, string, string, string | undefined];
  if (!new RegExp(PROTOCOL_PATTERN).test(protocol)) {
    throw new OptionError(
      'target',
      `protocol '${protocol}' (lower-case guacd protocol names: vnc, rdp, ssh)`,
    );
  }
  const port = portText !== undefined ? Number(portText) : DEFAULT_PORTS[protocol];
  if (port === undefined) {
    throw new OptionError('target', `'${value}' has no port and ${protocol} has no default port`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new OptionError('target', `port ${portText} (expected 1-65535)`);
  }
  const hostname = host.startsWith('[') ? host.slice(1, -1) : host;
  return { protocol, hostname, port };
}

/** Repeated NAME=VALUE options → params (at most LIMITS.params; no duplicates). */
export function parseParams(values: readonly string[], reserved: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  const nameRe = new RegExp(PARAM_NAME_PATTERN);
  for (const assignment of values) {
    const eq = assignment.indexOf('=');
    const name = eq > 0 ? assignment.slice(0, eq) : '';
    if (!nameRe.test(name)) {
      throw new OptionError(
        'param',
        `'${eq > 0 ? name : assignment}' (expected NAME=VALUE, NAME of letters, digits, '_', '.', '-')`,
      );
    }
    if (reserved.includes(name)) throw new OptionError('param', `'${name}' is set by --target`);
    if (Object.hasOwn(params, name)) throw new OptionError('param', `'${name}' given twice`);
    const value = assignment.slice(eq + 1);
    if (value.length > LIMITS.paramValueChars) {
      throw new OptionError('param', `'${name}' is longer than ${LIMITS.paramValueChars} characters`);
    }
    params[name] = value;
  }
  if (Object.keys(params).length + reserved.length > LIMITS.params) {
    throw new OptionError('param', `more than ${LIMITS.params} parameters`);
  }
  return params;
}

/** Comma-separated policy names → the flags set (an empty list or 'none' sets none). */
export function parsePolicy(value: string): Partial<Policy> {
  const policy: Partial<Policy> = {};
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'none');
  for (const name of names) {
    const flag = POLICY_NAMES[name];
    if (flag === undefined) {
      throw new OptionError(
        'policy',
        `'${name}' (expected a list of ${Object.keys(POLICY_NAMES).join(', ')})`,
      );
    }
    policy[flag] = true;
  }
  return policy;
}

export function parseGuacd(value: string): string {
  if (!new RegExp(GUACD_PATTERN).test(value)) {
    throw new OptionError('guacd', `'${value}' (expected guacd://HOST:PORT, e.g. guacd://127.0.0.1:4822)`);
  }
  return value;
}

/** Whole seconds from 1 to `max`. */
export function parseSeconds(option: string, value: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new OptionError(option, `'${value}' (expected whole seconds from 1 to ${max})`);
  }
  return Number(value);
}

/** The target for the token. */
export function buildTarget(options: { target: string; params: readonly string[]; guacd?: string }): Target {
  const { protocol, hostname, port } = parseTarget(options.target);
  const params = { hostname, port: String(port), ...parseParams(options.params, ['hostname', 'port']) };
  const target: Target = { protocol, params };
  if (options.guacd !== undefined) target.guacd = parseGuacd(options.guacd);
  return target;
}
