// What a redeemed token grants, in the proxy's terms (docs/proxy-auth.md "Webapp callback"): the server's
// guacd parameters, its stored credentials and the session policy.
import type { DlpPolicy, Server, ServerCredentials } from '../store/types.js';
import { dlpParams, proxyPolicy } from './dlp.js';

export function grantTarget(server: Server, creds: ServerCredentials | null, dlp: DlpPolicy) {
  const params: Record<string, string> = { ...server.params };
  params.hostname = server.host;
  params.port = String(server.port);
  if (creds?.username) params.username = creds.username;
  if (creds?.password) params.password = creds.password;
  if (creds?.domain && server.protocol === 'rdp') params.domain = creds.domain;
  Object.assign(params, dlpParams(dlp, server.protocol));
  return { target: { protocol: server.protocol, params }, policy: proxyPolicy(dlp) };
}
