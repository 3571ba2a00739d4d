// "My servers": the servers granted to the signed-in user, each with Connect (the session page, in a new
// tab) and, for RDP, a signed .rdp file for thick clients.
import { api, connectErrorText, get, seg } from './api.js';
import { errorBox, h, statusLine } from './dom.js';
import { protocolName } from './format.js';

const RDP_NAME = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i;

function fileNameOf(res, server) {
  const match = RDP_NAME.exec(res.headers.get('content-disposition') ?? '');
  let name = '';
  try {
    name = match ? decodeURIComponent(match[1]) : '';
  } catch {
    name = '';
  }
  const safe = (name || `${server.name}.rdp`).replace(/[\\/:*?"<>|\x00-\x1f]+/g, '_');
  return safe.toLowerCase().endsWith('.rdp') ? safe : `${safe}.rdp`;
}

async function downloadRdp(server, button, status, error) {
  error.clear();
  status.set(`Preparing ${server.name}.rdp…`);
  button.disabled = true;
  try {
    const res = await api('GET', `/api/servers/${seg(server.id)}/rdp`, undefined, { raw: true });
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: fileNameOf(res, server), hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status.set(`Downloaded ${a.download}`);
  } catch (err) {
    status.clear();
    error.set(`${server.name}: ${connectErrorText(err)}`);
  } finally {
    button.disabled = false;
  }
}

function serverRow(server, status, error) {
  const connect = h(
    'a',
    {
      href: `/session/${seg(server.id)}`,
      target: '_blank',
      rel: 'noopener',
      class: 'button primary',
      'data-testid': 'connect',
      'aria-label': `Connect to ${server.name} (opens a new tab)`,
    },
    'Connect',
  );
  const actions = [connect];
  if (server.protocol === 'rdp') {
    const download = h(
      'button',
      { type: 'button', 'data-testid': 'download-rdp', 'aria-label': `Download ${server.name}.rdp` },
      'Download .rdp',
    );
    download.addEventListener('click', () => downloadRdp(server, download, status, error));
    actions.push(download);
  }
  return h(
    'tr',
    { 'data-testid': 'server-row', 'data-id': server.id, 'data-name': server.name },
    h('th', { scope: 'row' }, server.name),
    h('td', {}, protocolName(server.protocol)),
    h('td', {}, server.zone?.name ?? ''),
    h('td', { class: 'row-actions' }, actions),
  );
}

export async function renderServers(main, ctx) {
  const status = statusLine('servers-status');
  const error = errorBox('servers-error');
  main.replaceChildren(h('h1', { tabindex: -1 }, 'My servers'), h('p', { class: 'loading' }, 'Loading…'));
  const { servers } = await get('/api/servers');
  if (!ctx.alive()) return;
  const list = Array.isArray(servers) ? [...servers] : [];
  list.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const body =
    list.length === 0
      ? h(
          'p',
          { class: 'empty', 'data-testid': 'no-servers' },
          'No servers are available to you yet. Ask an administrator to grant you access.',
        )
      : h(
          'table',
          { class: 'table', 'data-testid': 'servers-table' },
          h('caption', { class: 'visually-hidden' }, 'Servers you may connect to'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Name'),
              h('th', { scope: 'col' }, 'Protocol'),
              h('th', { scope: 'col' }, 'Zone'),
              h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
            ),
          ),
          h(
            'tbody',
            {},
            list.map((s) => serverRow(s, status, error)),
          ),
        );
  main.replaceChildren(h('h1', { tabindex: -1 }, 'My servers'), error.el, status.el, body);
}
