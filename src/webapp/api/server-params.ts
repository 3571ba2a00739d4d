// A server's connection parameters, checked when an admin saves them. The proxy hands them to the engine in
// the guacd handshake, which sends only the names the engine lists in `args`: a misspelt name would be
// dropped without a word at connect time, and a bad value would end every session with 0x0300. So: names
// must be guacd's (the engines implement a subset; an external guacd backend may use the rest), names the
// server's own fields or the DLP policy set are refused, and the values of what Gatehouse's engines implement
// are validated by the engines' own validators.
import { RDP_ARG_NAMES, validateRdpParams } from '../../engine/rdp/params.js';
import { VNC_ARG_NAMES, validateVncParams } from '../../engine/vnc/params.js';
import type { ServerProtocol } from '../store/types.js';

/** guacd's parameter names per protocol (guacd 1.5 main), besides the engines' own. */
const GUACD_NAMES: Record<ServerProtocol, readonly string[]> = {
  rdp: [
    ...RDP_ARG_NAMES,
    'enable-printing',
    'printer-name',
    'enable-drive',
    'drive-name',
    'drive-path',
    'create-drive-path',
    'disable-download',
    'disable-upload',
    'console-audio',
    'cert-tofu',
    'disable-auth',
    'remote-app',
    'remote-app-dir',
    'remote-app-args',
    'static-channels',
    'timezone',
    'create-recording-path',
    'enable-audio-input',
    'enable-touch',
    'gateway-hostname',
    'gateway-port',
    'gateway-domain',
    'gateway-username',
    'gateway-password',
  ],
  vnc: [
    ...VNC_ARG_NAMES,
    'autoretry',
    'disable-server-input',
    'compress-level',
    'quality-level',
    'dest-host',
    'dest-port',
    'reverse-connect',
    'create-recording-path',
  ],
  ssh: [
    'hostname',
    'host-key',
    'port',
    'timeout',
    'username',
    'password',
    'private-key',
    'passphrase',
    'public-key',
    'font-name',
    'font-size',
    'color-scheme',
    'command',
    'read-only',
    'server-alive-interval',
    'backspace',
    'terminal-type',
    'scrollback',
    'locale',
    'timezone',
    'enable-sftp',
    'sftp-root-directory',
    'disable-copy',
    'disable-paste',
    'disable-download',
    'disable-upload',
    'create-recording-path',
  ],
};
/** guacd's families of names: recordings, SFTP, Wake-on-LAN, typescripts (SSH). */
const GUACD_PREFIXES: Record<ServerProtocol, readonly string[]> = {
  rdp: ['recording-', 'sftp-', 'wol-'],
  vnc: ['recording-', 'sftp-', 'wol-'],
  ssh: ['recording-', 'typescript-', 'wol-'],
};
/** Set from the server's own fields when a token is redeemed (grant.ts). */
const FROM_FIELDS: Record<string, string> = {
  hostname: 'host',
  port: 'port',
  username: 'credentials',
  password: 'credentials',
  domain: 'credentials',
};
/** Set from the DLP policy (dlp.ts); a value here would be overridden. */
const FROM_DLP = new Set([
  'disable-copy',
  'disable-paste',
  'disable-audio',
  'enable-printing',
  'enable-drive',
  'disable-download',
  'disable-upload',
]);

export interface ParamProblem {
  field: string;
  message: string;
}

const PROTOCOL_NAME: Record<ServerProtocol, string> = { rdp: 'RDP', vnc: 'VNC', ssh: 'SSH' };

/** The first problem with a server's parameters, or null. */
export function serverParamsProblem(
  protocol: ServerProtocol,
  host: string,
  port: number,
  params: Readonly<Record<string, string>>,
): ParamProblem | null {
  const known = new Set(GUACD_NAMES[protocol]);
  for (const name of Object.keys(params)) {
    const field = `params.${name}`;
    const from = FROM_FIELDS[name];
    if (from) return { field, message: `'${name}' is set from the server's ${from}; remove it from params` };
    if (FROM_DLP.has(name)) {
      return {
        field,
        message: `'${name}' is set by the DLP policy (the server's dlp and its users' groups)`,
      };
    }
    if (!known.has(name) && !GUACD_PREFIXES[protocol].some((p) => name.startsWith(p))) {
      return {
        field,
        message: `'${name}' is not a ${PROTOCOL_NAME[protocol]} connection parameter (guacd's names)`,
      };
    }
  }
  const validate = protocol === 'rdp' ? validateRdpParams : protocol === 'vnc' ? validateVncParams : null;
  if (!validate) return null;
  const own: readonly string[] = protocol === 'rdp' ? RDP_ARG_NAMES : VNC_ARG_NAMES;
  const checked: Record<string, string> = { hostname: host, port: String(port) };
  for (const [name, value] of Object.entries(params)) if (own.includes(name)) checked[name] = value;
  const issue = validate(checked).find((i) => i.name in params);
  return issue ? { field: `params.${issue.name}`, message: issue.message } : null;
}
