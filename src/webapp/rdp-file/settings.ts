/**
 * The .rdp file format: one `name:type:value` setting per line (type s = string, i = integer, b = binary),
 * CRLF line ends; and the settings a signature can cover.
 *
 * Which settings are signable, their order and their names in `signscope` are not published by Microsoft.
 * This list is what rdpsign.exe signs as observed by independent reimplementations (nfedera/rdpsign's
 * reverse engineering, later tools adding the two newest entries). A signature covers the signable settings
 * present, in this order, and `signscope:s:` lists their scope names, comma-separated, in the same order.
 */

export type RdpType = 's' | 'i' | 'b';

export interface SignableSetting {
  /** Setting name as written in the file (lower case). */
  name: string;
  type: RdpType;
  /** Its name in `signscope`. */
  scope: string;
}

const table: [string, RdpType, string][] = [
  ['full address', 's', 'Full Address'],
  ['alternate full address', 's', 'Alternate Full Address'],
  ['pcb', 's', 'PCB'],
  ['use redirection server name', 'i', 'Use Redirection Server Name'],
  ['server port', 'i', 'Server Port'],
  ['negotiate security layer', 'i', 'Negotiate Security Layer'],
  ['enablecredsspsupport', 'i', 'EnableCredSspSupport'],
  ['disableconnectionsharing', 'i', 'DisableConnectionSharing'],
  ['autoreconnection enabled', 'i', 'AutoReconnection Enabled'],
  ['gatewayhostname', 's', 'GatewayHostname'],
  ['gatewayusagemethod', 'i', 'GatewayUsageMethod'],
  ['gatewayprofileusagemethod', 'i', 'GatewayProfileUsageMethod'],
  ['gatewaycredentialssource', 'i', 'GatewayCredentialsSource'],
  ['support url', 's', 'Support URL'],
  ['promptcredentialonce', 'i', 'PromptCredentialOnce'],
  ['require pre-authentication', 'i', 'Require pre-authentication'],
  ['pre-authentication server address', 's', 'Pre-authentication server address'],
  ['alternate shell', 's', 'Alternate Shell'],
  ['shell working directory', 's', 'Shell Working Directory'],
  ['remoteapplicationprogram', 's', 'RemoteApplicationProgram'],
  ['remoteapplicationexpandworkingdir', 's', 'RemoteApplicationExpandWorkingdir'],
  ['remoteapplicationmode', 'i', 'RemoteApplicationMode'],
  ['remoteapplicationguid', 's', 'RemoteApplicationGuid'],
  ['remoteapplicationname', 's', 'RemoteApplicationName'],
  ['remoteapplicationicon', 's', 'RemoteApplicationIcon'],
  ['remoteapplicationfile', 's', 'RemoteApplicationFile'],
  ['remoteapplicationfileextensions', 's', 'RemoteApplicationFileExtensions'],
  ['remoteapplicationcmdline', 's', 'RemoteApplicationCmdLine'],
  ['remoteapplicationexpandcmdline', 's', 'RemoteApplicationExpandCmdLine'],
  ['prompt for credentials', 'i', 'Prompt For Credentials'],
  ['authentication level', 'i', 'Authentication Level'],
  ['audiomode', 'i', 'AudioMode'],
  ['redirectdrives', 'i', 'RedirectDrives'],
  ['redirectprinters', 'i', 'RedirectPrinters'],
  ['redirectcomports', 'i', 'RedirectCOMPorts'],
  ['redirectsmartcards', 'i', 'RedirectSmartCards'],
  ['redirectposdevices', 'i', 'RedirectPOSDevices'],
  ['redirectclipboard', 'i', 'RedirectClipboard'],
  ['devicestoredirect', 's', 'DevicesToRedirect'],
  ['drivestoredirect', 's', 'DrivesToRedirect'],
  ['loadbalanceinfo', 's', 'LoadBalanceInfo'],
  ['redirectdirectx', 'i', 'RedirectDirectX'],
  ['rdgiskdcproxy', 'i', 'RDGIsKDCProxy'],
  ['kdcproxyname', 's', 'KDCProxyName'],
  ['eventloguploadaddress', 's', 'EventLogUploadAddress'],
  ['enablerdsaadauth', 'i', 'EnableRdsAadAuth'],
  ['redirectwebauthn', 'i', 'RedirectWebAuthn'],
];

/** The signable settings in signing order. */
export const SIGNABLE_SETTINGS: readonly SignableSetting[] = Object.freeze(
  table.map(([name, type, scope]) => Object.freeze({ name, type, scope })),
);
const byName = new Map(SIGNABLE_SETTINGS.map((s) => [s.name, s]));
const byScope = new Map(SIGNABLE_SETTINGS.map((s) => [s.scope.toLowerCase(), s]));

export const signableByName = (name: string): SignableSetting | undefined => byName.get(name.toLowerCase());
export const signableByScope = (scope: string): SignableSetting | undefined =>
  byScope.get(scope.toLowerCase());

export interface RdpLine {
  /** As written, and lower-cased for lookups. */
  name: string;
  key: string;
  type: RdpType;
  value: string;
}

/** Largest .rdp text accepted for signing or verifying (real files are a few KB). */
export const MAX_RDP_TEXT = 256 * 1024;
const LINE = /^([A-Za-z0-9][A-Za-z0-9 ._-]{0,63}):([sib]):(.*)$/;
/** Characters that have no business in a setting: C0/C1 controls, DEL, Unicode line/paragraph separators. */
export const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Splits .rdp text into settings. Blank lines are skipped; anything else that is not a setting throws. */
export function parseRdpText(text: string): RdpLine[] {
  if (text.length > MAX_RDP_TEXT) throw new Error(`the .rdp text is longer than ${MAX_RDP_TEXT} characters`);
  const out: RdpLine[] = [];
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    if (FORBIDDEN_CHARS.test(line)) throw new Error(`line ${i + 1}: control or line-separator character`);
    const m = LINE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a "name:type:value" setting`);
    const [, name, type, value] = m as unknown as [string, string, RdpType, string];
    out.push({ name, key: name.toLowerCase(), type, value });
  });
  return out;
}

export const formatLine = (name: string, type: RdpType, value: string): string => `${name}:${type}:${value}`;
