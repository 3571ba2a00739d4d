// The policy of one session: the user's groups grant (a capability is allowed when any group allows it; no
// group saying anything = allowed), the server restricts (an explicit false there wins). Then the same
// policy in the proxy's terms and as guacd parameters.
import type { Policy } from '../../proxy/types.js';
import { DLP_KEYS, type DlpPolicy, type DlpSettings, type ServerProtocol } from '../store/types.js';

export function effectiveDlp(groups: readonly DlpSettings[], server: DlpSettings): DlpPolicy {
  const out = {} as DlpPolicy;
  for (const key of DLP_KEYS) {
    const said = groups.map((g) => g[key]).filter((v): v is boolean => v !== undefined);
    const byGroups = said.length === 0 ? true : said.includes(true);
    out[key] = byGroups && server[key] !== false;
  }
  return out;
}

/** What the proxy enforces whatever the backend. */
export function proxyPolicy(dlp: DlpPolicy): Policy {
  return {
    disableCopy: !dlp.clipboardDown,
    disablePaste: !dlp.clipboardUp,
    disableDownload: !dlp.download,
    disableUpload: !dlp.upload,
    readOnly: false,
  };
}

/** guacd connection parameters that carry the policy to the engine too (defence in depth). */
export function dlpParams(dlp: DlpPolicy, protocol: ServerProtocol): Record<string, string> {
  const p: Record<string, string> = {};
  if (!dlp.clipboardDown) p['disable-copy'] = 'true';
  if (!dlp.clipboardUp) p['disable-paste'] = 'true';
  if (protocol === 'rdp') {
    if (!dlp.audio) p['disable-audio'] = 'true';
    if (!dlp.printing) p['enable-printing'] = 'false';
    if (!dlp.drives) p['enable-drive'] = 'false';
  }
  if (protocol === 'ssh' && !dlp.download) p['disable-download'] = 'true';
  if (protocol === 'ssh' && !dlp.upload) p['disable-upload'] = 'true';
  return p;
}
