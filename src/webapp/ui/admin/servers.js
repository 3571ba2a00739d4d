// Admin: servers (the remote desktops), their credentials (write-only), extra connection parameters, DLP
// restrictions and who may use them.
import { get } from '../api.js';
import { protocolName } from '../format.js';
import { dlpSummary } from './groups.js';
import { byText, nameOf, optionsOf, resourcePage } from './resource.js';

const PROTOCOLS = [
  { value: 'rdp', label: 'RDP' },
  { value: 'vnc', label: 'VNC' },
  { value: 'ssh', label: 'SSH' },
];
const DEFAULT_PORTS = { rdp: '3389', vnc: '5900', ssh: '22' };

const userLabel = (u) => (u.displayName ? `${u.displayName} (${u.username})` : u.username);

function grants(s) {
  const users = s.userIds?.length ?? 0;
  const groups = s.groupIds?.length ?? 0;
  if (!users && !groups) return 'Nobody yet';
  const parts = [];
  if (users) parts.push(`${users} user${users === 1 ? '' : 's'}`);
  if (groups) parts.push(`${groups} group${groups === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/** The zone new things go to: one named "default", else the first. */
function defaultZone(zones) {
  return (zones.find((z) => z.name === 'default') ?? zones[0])?.id;
}

export const render = resourcePage({
  title: 'Servers',
  noun: 'server',
  base: '/api/admin/servers',
  testid: 'servers',
  label: (s) => s.name,
  sort: byText('name'),
  empty: 'No servers yet. Add one to let users connect to it.',
  refs: async () => {
    const [zones, users, groups] = await Promise.all([
      get('/api/admin/zones'),
      get('/api/admin/users'),
      get('/api/admin/groups'),
    ]);
    return { zones: zones.items ?? [], users: users.items ?? [], groups: groups.items ?? [] };
  },
  columns: [
    { label: 'Name', cell: (s) => s.name },
    { label: 'Protocol', cell: (s) => protocolName(s.protocol) },
    { label: 'Address', cell: (s) => `${s.host}:${s.port}` },
    { label: 'Zone', cell: (s, refs) => nameOf(refs.zones, s.zoneId) },
    { label: 'Credentials', cell: (s) => (s.hasCredentials ? 'Stored' : 'None') },
    { label: 'Granted to', cell: (s) => grants(s) },
    { label: 'Data loss prevention', cell: (s) => dlpSummary(s.dlp) },
  ],
  fields: (refs) => [
    { name: 'name', label: 'Name', kind: 'text', required: true },
    { name: 'protocol', label: 'Protocol', kind: 'select', options: PROTOCOLS, default: 'rdp' },
    {
      name: 'host',
      label: 'Host',
      kind: 'text',
      required: true,
      hint: 'Host name or IP address, as the connection proxies of its zone reach it.',
    },
    { name: 'port', label: 'Port', kind: 'number', required: true, min: 1, max: 65535, default: 3389 },
    {
      name: 'zoneId',
      label: 'Zone',
      kind: 'select',
      options: () => optionsOf([...refs.zones].sort(byText('name'))),
      default: defaultZone(refs.zones),
    },
    { name: 'credentials', label: 'Credentials', kind: 'credentials' },
    {
      name: 'params',
      label: 'Extra connection parameters',
      kind: 'kv',
      hint: 'One name=value per line, e.g. color-depth=16.',
    },
    {
      name: 'dlp',
      label: 'Data loss prevention',
      kind: 'dlp',
      hint: 'Block: blocked in every session to this server, whatever the user’s groups allow.',
    },
    {
      name: 'userIds',
      label: 'Users who may connect',
      kind: 'checklist',
      options: () => optionsOf([...refs.users].sort(byText('username')), userLabel),
      empty: 'No users yet.',
    },
    {
      name: 'groupIds',
      label: 'Groups whose members may connect',
      kind: 'checklist',
      options: () => optionsOf([...refs.groups].sort(byText('name'))),
      empty: 'No groups yet.',
    },
  ],
  onForm(form, item) {
    // A new server's port follows the protocol until someone types a port.
    const protocol = form.field('protocol');
    const port = form.field('port');
    if (item || !protocol || !port) return;
    port.value = DEFAULT_PORTS[protocol.value] ?? port.value;
    protocol.addEventListener('change', () => {
      if (Object.values(DEFAULT_PORTS).includes(port.value) || port.value === '') {
        port.value = DEFAULT_PORTS[protocol.value] ?? '';
      }
    });
  },
});
