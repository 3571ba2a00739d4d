// Gatehouse browser client: one remote desktop session over the Guacamole WebSocket tunnel, drawn by
// guacamole-common-js. Plain browser ES module (served as is, not compiled), no framework, no inline code,
// so it runs under the proxy's CSP (default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:
// blob:; style-src 'self').
//
// URL:  /#token=T                 the access token (the fragment never reaches a server or its logs);
//       ?token=T                  fallback; the page removes the token from the address bar either way
//       ?reconnect=/path          optional, same origin: GET returns a fresh token as text (see reconnect)
//       ?tunnel=ws://host:port/p  test override of the tunnel, same host name as the page only
//
// An embedding page (the webapp's session page) may instead define window.gatehouseFreshToken before this
// module loads: an async function returning a fresh token, used by Reconnect like ?reconnect= is.
//
// Read-only hook for tests and embedding: window.gatehouse = { state(), status(), client }.
import Guacamole from './guacamole-common.js';

const RESIZE_DEBOUNCE_MS = 300;
const CLIPBOARD_DEBOUNCE_MS = 300;
/** Clipboard text kept from the remote side at most (characters); the rest is dropped. */
const CLIPBOARD_MAX = 1024 * 1024;
const TOKEN_MAX = 16 * 1024;
/** A 1x1 lossy WebP: the browser advertises image/webp only if it decodes this. */
const WEBP_PROBE = 'data:image/webp;base64,UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAsBMJaQAA3AA/vgfgAA=';

const LINK_REFUSED = 'Access denied: the link is invalid, expired or already used';
const SIGN_IN_REFUSED = 'The remote desktop refused the sign-in (user name or password)';
const STATUS_TEXT = new Map([
  [0x0201, 'The server is busy; try again shortly'],
  [0x0202, 'The remote desktop did not respond in time'],
  [0x0203, 'The remote desktop closed the connection'],
  [0x0207, 'The remote desktop cannot be reached'],
  [0x0208, 'The remote desktop cannot be reached'],
  [0x0209, 'The session was taken over by another connection'],
  [0x020b, 'The server is restarting or shutting down'],
  [0x0301, LINK_REFUSED],
  [0x0303, 'Access denied'],
  [0x0308, 'Disconnected after inactivity'],
  [0x031d, 'Too many connections; try again later'],
]);
/** Failures worth retrying with the same token (the server or the network, not the token or the user). */
const TRANSIENT = new Set([0x0200, 0x0201, 0x0202, 0x0207, 0x0208, 0x020b]);

const $ = (id) => document.getElementById(id);
const ui = {
  display: $('display'),
  overlay: $('overlay'),
  text: $('status-text'),
  detail: $('status-detail'),
  reconnect: $('reconnect'),
  toggle: $('clipboard-toggle'),
  panel: $('clipboard-panel'),
  clip: $('clipboard-text'),
};

let client = null;
/** 'idle' | 'connecting' | 'connected' | 'disconnected' | 'error' */
let state = 'idle';
/** The status that ended the session ({ code, message }), or null. */
let lastStatus = null;
let token = '';
let lastSize = '';
/** The clipboard text both sides last agreed on: what was last received or sent. */
let clipboardText = '';
const pressed = new Set();
const keyboard = new Guacamole.Keyboard(document);
const config = readConfig();

/** Reads the URL once, then drops the token from the address bar (and so from history and bookmarks). */
function readConfig() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  token = hash.get('token') ?? query.get('token') ?? '';
  if (hash.has('token') || query.has('token')) {
    hash.delete('token');
    query.delete('token');
    const q = query.toString();
    const h = hash.toString();
    history.replaceState(null, '', `${location.pathname}${q ? `?${q}` : ''}${h ? `#${h}` : ''}`);
  }
  const freshToken = typeof window.gatehouseFreshToken === 'function' ? window.gatehouseFreshToken : null;
  return {
    tunnel: tunnelUrl(query.get('tunnel')),
    reconnect: sameOrigin(query.get('reconnect')),
    freshToken,
  };
}

/** The tunnel: the page's meta tag, else ?tunnel= (same host name only), else ws(s)://<host>/tunnel. */
function tunnelUrl(override) {
  const meta = document.querySelector('meta[name="gatehouse-tunnel"]')?.content;
  const candidate = meta || override;
  if (candidate) {
    try {
      const url = new URL(candidate, location.href);
      const wsScheme = url.protocol === 'ws:' || url.protocol === 'wss:';
      if (wsScheme && (meta || url.hostname === location.hostname)) return `${url.origin}${url.pathname}`;
    } catch {
      // not a URL: refused below
    }
    return null;
  }
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/tunnel`;
}

function sameOrigin(path) {
  if (!path) return null;
  try {
    const url = new URL(path, location.href);
    return url.origin === location.origin ? url.href : null;
  } catch {
    return null;
  }
}

/** Remote display size in device pixels (so the picture is sharp on high-DPI screens) and its DPI. */
function localSize() {
  const dpr = window.devicePixelRatio || 1;
  return {
    width: Math.max(1, Math.round(window.innerWidth * dpr)),
    height: Math.max(1, Math.round(window.innerHeight * dpr)),
    dpi: Math.round(96 * dpr),
  };
}

async function imageTypes() {
  const types = ['image/png', 'image/jpeg'];
  const probe = new Image();
  probe.src = WEBP_PROBE;
  try {
    await probe.decode();
    if (probe.naturalWidth === 1) types.push('image/webp');
  } catch {
    // no WebP decoder
  }
  return types;
}

async function connectData() {
  const size = localSize();
  lastSize = `${size.width}x${size.height}`;
  const data = new URLSearchParams({ token, width: size.width, height: size.height, dpi: size.dpi });
  for (const type of await imageTypes()) data.append('image', type);
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (timezone) data.append('timezone', timezone);
  return data.toString();
}

/** Starts a session with the current token; a failure to start shows as an error. */
function connect() {
  start().catch((err) => {
    teardown();
    lastStatus = { code: null, message: String(err?.message ?? err) };
    setState('error');
  });
}

async function start() {
  teardown();
  lastStatus = null;
  setState('connecting');
  const tunnel = new Guacamole.WebSocketTunnel(config.tunnel);
  const guac = new Guacamole.Client(tunnel);
  client = guac;
  const display = guac.getDisplay();
  const element = display.getElement();
  ui.display.replaceChildren(element);
  display.onresize = fit;

  guac.onstatechange = (s) => {
    if (guac !== client) return;
    if (s === Guacamole.Client.State.CONNECTED) {
      setState('connected');
      fit();
      if (document.hasFocus()) readLocalClipboard();
    } else if (s === Guacamole.Client.State.DISCONNECTED) {
      releaseKeys();
      setState(lastStatus ? 'error' : 'disconnected');
    }
  };
  guac.onerror = (status) => fail(guac, status);
  tunnel.onerror = (status) => fail(guac, status);
  // The client does not watch its tunnel: end the session when the tunnel closes.
  tunnel.onstatechange = (s) => {
    if (s === Guacamole.Tunnel.State.CLOSED) guac.disconnect();
  };
  guac.onclipboard = receiveClipboard;

  const mouse = new Guacamole.Mouse(element);
  const touch = new Guacamole.Mouse.Touchscreen(element);
  const sendMouse = (e) => {
    if (state === 'connected' && guac === client) guac.sendMouseState(e.state, true);
  };
  mouse.onEach(['mousedown', 'mouseup', 'mousemove'], sendMouse);
  touch.onEach(['mousedown', 'mouseup', 'mousemove'], sendMouse);
  display.oncursor = (canvas, x, y) => display.showCursor(!mouse.setCursor(canvas, x, y));

  const data = await connectData();
  if (guac === client) guac.connect(data);
}

function teardown() {
  if (!client) return;
  const old = client;
  client = null;
  old.disconnect();
}

/**
 * Keeps the first error of a session. No disconnect() here: after an `error` instruction the client
 * disconnects itself, and a tunnel error is followed by the tunnel closing (its onerror runs while it still
 * counts as open, so a disconnect now would write to a closing WebSocket).
 */
function fail(guac, status) {
  if (guac !== client || lastStatus) return;
  lastStatus = { code: Number.isInteger(status.code) ? status.code : null, message: status.message ?? '' };
  setState('error');
}

/** Scales the remote display to fit the window, keeping its aspect ratio. */
function fit() {
  if (!client) return;
  const display = client.getDisplay();
  const w = display.getWidth();
  const h = display.getHeight();
  if (w > 0 && h > 0) display.scale(Math.min(window.innerWidth / w, window.innerHeight / h));
}

let resizeTimer;
window.addEventListener('resize', () => {
  fit();
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    const size = localSize();
    const key = `${size.width}x${size.height}`;
    if (client && state === 'connected' && key !== lastSize) {
      lastSize = key;
      client.sendSize(size.width, size.height);
    }
  }, RESIZE_DEBOUNCE_MS);
});

// Keyboard: forwarded while connected, except while typing in the clipboard panel. A key is released on
// the remote side only if its press was sent, and every sent press is released when input stops.
const typingLocally = () => ui.panel.contains(document.activeElement);
keyboard.onkeydown = (keysym) => {
  if (state !== 'connected' || !client || typingLocally()) return true;
  pressed.add(keysym);
  client.sendKeyEvent(1, keysym);
  return false;
};
keyboard.onkeyup = (keysym) => {
  if (pressed.delete(keysym) && client) client.sendKeyEvent(0, keysym);
};

function releaseKeys() {
  keyboard.reset();
  for (const keysym of pressed) client?.sendKeyEvent(0, keysym);
  pressed.clear();
}

window.addEventListener('blur', releaseKeys);
ui.panel.addEventListener('focusin', releaseKeys);
// A click on the desktop hands the keyboard back to it (Guacamole.Mouse cancels the click's focus change).
ui.display.addEventListener(
  'pointerdown',
  () => {
    if (typingLocally()) document.activeElement.blur();
  },
  true,
);

// Clipboard, remote -> local: the panel always shows it; the system clipboard gets it when permitted.
function receiveClipboard(stream, mimetype) {
  if (!mimetype.startsWith('text/')) {
    stream.sendAck('Unsupported clipboard type', Guacamole.Status.Code.UNSUPPORTED);
    return;
  }
  const reader = new Guacamole.StringReader(stream);
  let text = '';
  reader.ontext = (chunk) => {
    if (text.length < CLIPBOARD_MAX) text += chunk.slice(0, CLIPBOARD_MAX - text.length);
  };
  reader.onend = () => {
    clipboardText = text;
    ui.clip.value = text;
    navigator.clipboard?.writeText(text).catch(() => {});
  };
}

// Clipboard, local -> remote: the system clipboard when the window gains focus (if readable without a
// refusal), a paste anywhere on the page, or the panel's text.
function sendClipboard(text) {
  if (!client || state !== 'connected' || text === clipboardText) return;
  clipboardText = text;
  const writer = new Guacamole.StringWriter(client.createClipboardStream('text/plain'));
  writer.sendText(text);
  writer.sendEnd();
}

function setLocalText(text) {
  if (text === clipboardText) return;
  ui.clip.value = text;
  sendClipboard(text);
}

async function readLocalClipboard() {
  if (!navigator.clipboard?.readText || !navigator.permissions) return;
  try {
    const permission = await navigator.permissions.query({ name: 'clipboard-read' });
    if (permission.state === 'denied') return;
    setLocalText(await navigator.clipboard.readText());
  } catch {
    // not supported, or refused
  }
}

window.addEventListener('focus', readLocalClipboard);
document.addEventListener('paste', (e) => {
  if (e.target === ui.clip) return;
  const text = e.clipboardData?.getData('text/plain');
  if (text) setLocalText(text);
});
let clipTimer;
ui.clip.addEventListener('input', () => {
  clearTimeout(clipTimer);
  clipTimer = setTimeout(() => sendClipboard(ui.clip.value), CLIPBOARD_DEBOUNCE_MS);
});
ui.clip.addEventListener('change', () => {
  clearTimeout(clipTimer);
  sendClipboard(ui.clip.value);
});

ui.toggle.addEventListener('click', () => {
  const open = ui.panel.hidden;
  ui.panel.hidden = !open;
  ui.toggle.setAttribute('aria-expanded', String(open));
  if (open) ui.clip.focus();
  else ui.toggle.blur();
});

// Status overlay.
function setState(next) {
  state = next;
  ui.overlay.classList.toggle('hidden', next === 'connected');
  ui.overlay.classList.toggle('error', next === 'error');
  if (next === 'connecting') show('Connecting…', '');
  else if (next === 'disconnected') show('Disconnected', 'The session has ended.');
  else if (next === 'error') {
    const code = lastStatus?.code;
    const known = code === 0x0301 ? unauthorizedText(lastStatus.message) : STATUS_TEXT.get(code);
    const hex = Number.isInteger(code) ? `Error 0x${code.toString(16).padStart(4, '0').toUpperCase()}` : '';
    const message = lastStatus?.message ? `: ${lastStatus.message}` : '';
    show(known ?? 'The connection failed', `${hex}${message}`);
  }
  ui.reconnect.hidden = !canReconnect();
}

/**
 * 0x0301 means two things, as in guacd: the proxy or the webapp refused the token or the login (their
 * messages name the token or the sign-in; a bare WebSocket close carries only the code, which the tunnel
 * reports as the message), or the remote desktop refused the credentials (the engines' messages:
 * authentication failure, security negotiation, ...).
 */
function unauthorizedText(message) {
  return !message || /^\d+$/.test(message) || /token|link|sign in/i.test(message)
    ? LINK_REFUSED
    : SIGN_IN_REFUSED;
}

function show(text, detail) {
  ui.text.textContent = text;
  ui.detail.textContent = detail;
}

// Reconnect. Tokens are normally single use: the proxy redeems (and so spends) the token before it
// contacts the desktop, so the token this page was opened with cannot open a second session. Hence:
//  - with ?reconnect=<same-origin URL>, the button is offered after any end of session; it GETs a fresh
//    token (the response body, text) and connects with it; window.gatehouseFreshToken works the same way;
//  - without it, the button is offered only after a transient failure (server busy or restarting, desktop
//    unreachable or too slow, network lost) and retries with the same token. That works only where the
//    issuer accepts the token again; a spent token then ends with 0x0301, which offers no button.
function canReconnect() {
  if (state !== 'error' && state !== 'disconnected') return false;
  if (!config.tunnel) return false;
  if (config.reconnect || config.freshToken) return true;
  return state === 'error' && token !== '' && TRANSIENT.has(lastStatus?.code);
}

async function freshToken() {
  if (config.freshToken) {
    const text = String((await config.freshToken()) ?? '').trim();
    if (!text || text.length > TOKEN_MAX) throw new Error('no token');
    return text;
  }
  const res = await fetch(config.reconnect, { cache: 'no-store', credentials: 'same-origin' });
  const text = res.ok ? (await res.text()).trim() : '';
  if (!text || text.length > TOKEN_MAX) throw new Error(`no token (HTTP ${res.status})`);
  return text;
}

ui.reconnect.addEventListener('click', async () => {
  ui.reconnect.hidden = true;
  if (config.reconnect || config.freshToken) {
    show('Connecting…', '');
    try {
      token = await freshToken();
    } catch (err) {
      lastStatus = { code: null, message: err.message };
      setState('error');
      ui.text.textContent = 'Could not get a new access link';
      return;
    }
  }
  connect();
});

window.gatehouse = Object.freeze({
  state: () => state,
  status: () => (lastStatus ? { ...lastStatus } : null),
  get client() {
    return client;
  },
});

if (!config.tunnel) {
  lastStatus = { code: null, message: 'the tunnel URL is not a ws: or wss: URL on this host' };
  setState('error');
  ui.text.textContent = 'This link is invalid';
} else if (!token) {
  lastStatus = { code: null, message: 'no access token in the link' };
  setState('error');
  ui.text.textContent = 'This link is invalid';
} else {
  connect();
}
