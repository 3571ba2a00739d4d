// Admin: connection proxies, with their live health (the list is reloaded every 5 s while the page is
// visible). A proxy's registration secret is shown once, right after it is made (create or "New secret"),
// with the configuration lines the proxy needs.
import { ApiError, get, post, seg } from '../api.js';
import { copyText, h, statusLine, uid } from '../dom.js';
import { ago, dateTime } from '../format.js';
import { byText, nameOf, optionsOf, resourcePage, yesNo } from './resource.js';

/** Where a proxy redeems tokens (docs/proxy-auth.md, "Webapp callback"). */
export const REDEEM_PATH = '/api/proxy/redeem';

const KINDS = [
  { value: 'guac', label: 'Browser sessions (guac)' },
  { value: 'rdp-gateway', label: 'RDP gateway (thick clients)' },
];

/**
 * The proxy's configuration for this webapp (section proxyAuth, docs/proxy-auth.md), as YAML and as
 * environment variables. advertiseUrl (where the webapp reaches the proxy; it registers itself there) is the
 * proxy's address when one is set, else a commented placeholder.
 */
export function proxyConfig(proxy, secret, zoneName, origin = location.origin) {
  const url = `${origin}${REDEEM_PATH}`;
  const q = JSON.stringify;
  const advertise = /^https?:\/\//.test(proxy.address ?? '') ? proxy.address : '';
  const yaml = [
    'proxyAuth:',
    '  mode: webapp',
    '  webapp:',
    `    url: ${q(url)}`,
    `    proxyId: ${q(proxy.name)}`,
    `    proxyToken: ${q(secret)}`,
    zoneName ? `    zone: ${q(zoneName)}` : null,
    advertise
      ? `    advertiseUrl: ${q(advertise)}`
      : '    # advertiseUrl: "http://HOST:PORT"  # where the webapp reaches this proxy',
    "    # caFile: webapp-ca.pem  # when the webapp's certificate is self-signed or from a private CA",
  ];
  const env = [
    'GATEHOUSE_PROXY_AUTH__MODE=webapp',
    `GATEHOUSE_PROXY_AUTH__WEBAPP__URL=${url}`,
    `GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_ID=${proxy.name}`,
    `GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_TOKEN=${secret}`,
    zoneName ? `GATEHOUSE_PROXY_AUTH__WEBAPP__ZONE=${zoneName}` : null,
    advertise
      ? `GATEHOUSE_PROXY_AUTH__WEBAPP__ADVERTISE_URL=${advertise}`
      : '# GATEHOUSE_PROXY_AUTH__WEBAPP__ADVERTISE_URL=http://HOST:PORT',
  ];
  const lines = (list) => list.filter((l) => l !== null).join('\n');
  return { yaml: lines(yaml), env: lines(env) };
}

function copyBlock(title, text, testid, status, buttonLabel) {
  const pre = h('pre', { class: 'config', tabindex: 0, 'data-testid': testid, 'aria-label': title }, text);
  const button = h('button', { type: 'button' }, buttonLabel);
  button.addEventListener('click', async () => status.set(await copyText(text, pre)));
  return h('div', { class: 'copy-block' }, h('h3', {}, title), pre, button);
}

/** Shows the secret (once) above the table; "Done" removes it from the page. */
function showSecret(page, proxy, secret, rotated) {
  const headingId = uid('secret');
  const inputId = uid('secret-value');
  const status = statusLine('secret-status');
  const input = h('input', {
    id: inputId,
    type: 'text',
    readOnly: true,
    value: secret,
    class: 'secret',
    spellcheck: false,
    'data-testid': 'proxy-secret',
  });
  const copy = h('button', { type: 'button', class: 'primary', 'data-testid': 'copy-secret' }, 'Copy secret');
  copy.addEventListener('click', async () => status.set(await copyText(secret, input)));
  const done = h('button', { type: 'button', 'data-testid': 'secret-done' }, 'Done, I saved it');
  const blocks = [];
  if (proxy.kind === 'guac') {
    const zone = (page.refs.zones ?? []).find((z) => z.id === proxy.zoneId);
    const { yaml, env } = proxyConfig(proxy, secret, zone?.name ?? '');
    blocks.push(
      h('p', {}, 'Put this in the proxy’s configuration file:'),
      copyBlock('YAML configuration', yaml, 'proxy-config', status, 'Copy the YAML'),
      h('p', {}, 'or set these environment variables:'),
      copyBlock('Environment variables', env, 'proxy-env', status, 'Copy the variables'),
    );
  } else {
    blocks.push(h('p', {}, `Configure the gateway with the name ${proxy.name} and this secret.`));
  }
  const panel = h(
    'section',
    { class: 'card secret-panel', 'aria-labelledby': headingId, 'data-testid': 'secret-panel' },
    h('h2', { id: headingId }, `${rotated ? 'New secret' : 'Secret'} of proxy ${proxy.name}`),
    h(
      'p',
      { class: 'warning' },
      'Copy it now: it is shown only this once. ',
      rotated ? 'The previous secret no longer works; the proxy needs this one.' : '',
    ),
    h('div', { class: 'field' }, h('label', { for: inputId }, 'Registration secret'), input),
    h('div', { class: 'actions' }, copy),
    blocks,
    status.el,
    h('div', { class: 'actions' }, done),
  );
  done.addEventListener('click', () => {
    panel.remove();
    if (page.ctx.alive()) document.querySelector('[data-testid="add-proxies"]')?.focus();
  });
  page.slot.replaceChildren(panel);
  copy.focus();
}

function healthCell(p) {
  if (!p.enabled) return h('span', { class: 'badge off' }, 'Disabled');
  const health = p.lastHealth;
  if (!health) return h('span', { class: 'badge off' }, 'Not checked yet');
  return h(
    'span',
    { class: 'health', 'data-testid': 'health' },
    h('span', { class: `badge ${health.ok ? 'ok' : 'bad'}` }, health.ok ? 'Healthy' : 'Down'),
    ' ',
    h('span', { class: 'muted', title: dateTime(health.at) }, `checked ${ago(health.at)}`),
    !health.ok && health.detail ? h('span', { class: 'detail' }, health.detail) : null,
  );
}

function rotateButton(proxy, page) {
  const button = h(
    'button',
    { type: 'button', 'data-testid': 'rotate-secret', 'aria-label': `New secret for ${proxy.name}` },
    'New secret',
  );
  button.addEventListener('click', async () => {
    const current = page.byId.get(proxy.id) ?? proxy;
    const question = `Make a new secret for proxy ${current.name}? The current secret stops working at once.`;
    if (!window.confirm(question)) return;
    page.error.clear();
    button.disabled = true;
    try {
      const { secret } = await post(`/api/admin/proxies/${seg(current.id)}/secret`);
      showSecret(page, current, secret, true);
    } catch (err) {
      page.error.set(`${current.name}: ${err instanceof ApiError ? err.message : String(err)}`);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

export const render = resourcePage({
  title: 'Connection proxies',
  noun: 'proxy',
  base: '/api/admin/proxies',
  testid: 'proxies',
  intro: 'The proxies that carry sessions to the servers of their zone. Health is refreshed every 5 seconds.',
  label: (p) => p.name,
  sort: byText('name'),
  empty: 'No connection proxies yet.',
  poll: 5000,
  refs: async () => ({ zones: (await get('/api/admin/zones')).items ?? [] }),
  columns: [
    { label: 'Name', cell: (p) => p.name },
    { label: 'Zone', cell: (p, refs) => nameOf(refs.zones, p.zoneId) },
    { label: 'Kind', cell: (p) => (p.kind === 'guac' ? 'Browser sessions' : 'RDP gateway') },
    { label: 'Address', cell: (p) => p.address || 'Not registered yet' },
    { label: 'Enabled', cell: (p) => yesNo(p.enabled) },
    { label: 'Health', cell: healthCell },
    {
      label: 'Registered',
      cell: (p) =>
        p.registeredAt ? h('span', { title: dateTime(p.registeredAt) }, ago(p.registeredAt)) : 'Never',
    },
  ],
  fields: (refs) => [
    {
      name: 'name',
      label: 'Name',
      kind: 'text',
      required: true,
      hint: 'Also the proxy id in the proxy’s configuration.',
    },
    {
      name: 'zoneId',
      label: 'Zone',
      kind: 'select',
      options: () => optionsOf([...refs.zones].sort(byText('name'))),
      default: (refs.zones.find((z) => z.name === 'default') ?? refs.zones[0])?.id,
    },
    { name: 'kind', label: 'Kind', kind: 'select', options: KINDS, default: 'guac' },
    {
      name: 'address',
      label: 'Address',
      kind: 'text',
      placeholder: 'https://proxy.example:8080',
      hint: 'How the webapp reaches it: https://host:port for browser sessions, host:port for an RDP gateway. May stay empty: the proxy reports it when it registers.',
    },
    { name: 'enabled', label: 'Enabled (used for new sessions)', kind: 'checkbox', default: true },
  ],
  created: (answer, page) => {
    if (answer?.proxy && typeof answer.secret === 'string')
      showSecret(page, answer.proxy, answer.secret, false);
    return answer?.proxy ?? answer;
  },
  rowActions: [rotateButton],
});
