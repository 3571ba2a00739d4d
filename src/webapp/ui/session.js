// The webapp's session page (session.html, entered as /session.html?server=<id> from the /session/<id> route
// of app.js, or served directly for /session/<id>): asks the API for a one-time tunnel token (POST
// /api/servers/{id}/connect), then runs the proxy's browser client (/client/client.js, served from dist/public)
// with it: the tunnel URL goes into <meta name="gatehouse-tunnel">, the token into the fragment (#token=,
// which client.js reads and removes), and window.gatehouseFreshToken lets client.js's Reconnect fetch a new
// token the same way. The address bar shows /session/<id>.
import { ApiError, connectErrorText, get, onSessionExpired, post, seg, setCsrfToken } from './api.js';

const $ = (id) => document.getElementById(id);

function serverIdFromUrl() {
  const fromQuery = new URLSearchParams(location.search).get('server');
  if (fromQuery) return fromQuery;
  const match = /^\/session\/([^/]+)\/?$/.exec(location.pathname);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]) || null;
  } catch {
    return null;
  }
}

/** Shows a failure in client.js's overlay (before the client runs); `retry` offers "Try again" (reload). */
function showError(text, detail = '', retry = false) {
  const overlay = $('overlay');
  overlay.classList.remove('hidden');
  overlay.classList.add('error');
  $('status-text').textContent = text;
  $('status-detail').textContent = detail;
  const button = $('reconnect');
  button.textContent = 'Try again';
  button.hidden = !retry;
  if (retry) {
    button.addEventListener('click', () => location.reload(), { once: true });
    button.focus();
  }
}

let route = location.pathname;

function signIn() {
  location.replace(`/?next=${encodeURIComponent(route)}`);
}

/** The tunnel as a ws:/wss: URL: the API may answer with a path or an http(s) URL of the relay. */
function tunnelWsUrl(tunnelUrl) {
  const url = new URL(typeof tunnelUrl === 'string' && tunnelUrl ? tunnelUrl : '/api/tunnel', location.href);
  if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol === 'http:') url.protocol = 'ws:';
  return url.href;
}

async function connect(serverId) {
  const grant = await post(`/api/servers/${seg(serverId)}/connect`);
  if (typeof grant?.token !== 'string' || !grant.token) {
    throw new ApiError(502, 'bad-response', 'The server sent no access token');
  }
  return grant;
}

const retryable = (err) => !(err instanceof ApiError) || err.status === 0 || err.status >= 500;

async function start() {
  const serverId = serverIdFromUrl();
  if (!serverId) {
    showError('This link is invalid', 'The address names no server.');
    return;
  }
  route = `/session/${seg(serverId)}`;
  history.replaceState(null, '', route);
  onSessionExpired(signIn);
  try {
    const me = await get('/api/me');
    setCsrfToken(me?.csrfToken);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signIn();
    else showError('Gatehouse is not available', err?.message ?? '', true);
    return;
  }
  get('/api/servers')
    .then((r) => {
      const server = r?.servers?.find?.((s) => s.id === serverId);
      if (server) document.title = `${server.name} — Gatehouse`;
    })
    .catch(() => {});

  let grant;
  try {
    grant = await connect(serverId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return; // signIn() runs
    const text = connectErrorText(err);
    showError(text, err instanceof ApiError && err.message !== text ? err.message : '', retryable(err));
    return;
  }
  document.querySelector('meta[name="gatehouse-tunnel"]').content = tunnelWsUrl(grant.tunnelUrl);
  window.gatehouseFreshToken = async () => {
    try {
      return (await connect(serverId)).token;
    } catch (err) {
      throw new Error(connectErrorText(err));
    }
  };
  history.replaceState(null, '', `${location.pathname}#token=${encodeURIComponent(grant.token)}`);
  try {
    await import('/client/client.js');
  } catch {
    history.replaceState(null, '', location.pathname);
    showError('The session client could not be loaded', 'Reload the page to try again.', true);
  }
}

start();
