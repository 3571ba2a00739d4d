// The browser side of the Guacamole client test page (served by ./guac-client-page.ts): a module script
// that imports guacamole-common-js's ESM build and puts a small API on window.gh for page.evaluate.
// It is plain browser JavaScript kept in a string, since tsc here compiles for Node, not the DOM.
//
// window.gh:
//   connect(wsUrl, connectData)  WebSocketTunnel + Client; the display element goes into <body>
//   status()                     client/tunnel state, errors, syncs, opcode counts, recent instructions,
//                                clipboard received, display size
//   readPixels(x, y, w, h)       after display.flush: RGBA of the default layer, base64
//   sendKey(keysym, pressed?)    one event, or press + release when pressed is undefined
//   typeText(text)               press + release per character (Latin-1 keysym, else 0x01000000 + codepoint)
//   sendMouse(x, y, mask)        mask: 1 left, 2 middle, 4 right, 8 wheel up, 16 wheel down
//   setClipboard(text, mime)     a clipboard stream to the server
//   resize(w, h)                 client.sendSize
//   disconnect()                 client.disconnect(); connect() may follow
export const GUAC_PAGE_SCRIPT = `
import Guacamole from '/guacamole-common.js';
window.Guacamole = Guacamole;

const RECENT_LIMIT = 100;
const ARG_LIMIT = 80;
let client = null;
let tunnel = null;
const s = {
  clientState: null, clientStates: [], tunnelState: null, tunnelStates: [], uuid: null,
  errors: [], tunnelErrors: [], syncs: 0, opcodes: {}, recent: [], clipboard: [],
};

function resetStatus() {
  Object.assign(s, {
    clientState: null, clientStates: [], tunnelState: null, tunnelStates: [], uuid: null,
    errors: [], tunnelErrors: [], syncs: 0, opcodes: {}, recent: [], clipboard: [],
  });
}

function record(opcode, args) {
  s.opcodes[opcode] = (s.opcodes[opcode] || 0) + 1;
  if (opcode === 'sync') s.syncs++;
  const shown = args.map((a) => (a.length > ARG_LIMIT ? a.slice(0, ARG_LIMIT) + '...(' + a.length + ')' : a));
  s.recent.push([opcode, ...shown]);
  if (s.recent.length > RECENT_LIMIT) s.recent.shift();
}

function statusOf(st) {
  return { code: Number.isNaN(st.code) ? null : st.code, rawCode: String(st.code), message: st.message ?? null };
}

window.gh = {
  connect(wsUrl, connectData) {
    if (client && s.clientState !== 5) throw new Error('already connected; disconnect() first');
    const old = document.getElementById('guac-display');
    if (old) old.remove();
    resetStatus();
    tunnel = new Guacamole.WebSocketTunnel(wsUrl);
    client = new Guacamole.Client(tunnel);
    const clientHandler = tunnel.oninstruction;
    tunnel.oninstruction = (opcode, args) => {
      record(opcode, args);
      clientHandler(opcode, args);
    };
    tunnel.onstatechange = (state) => {
      s.tunnelState = state;
      s.tunnelStates.push(state);
      if (tunnel.uuid) s.uuid = tunnel.uuid;
    };
    tunnel.onerror = (st) => s.tunnelErrors.push(statusOf(st));
    tunnel.onuuid = (uuid) => { s.uuid = uuid; };
    client.onstatechange = (state) => {
      s.clientState = state;
      s.clientStates.push(state);
    };
    client.onerror = (st) => s.errors.push(statusOf(st));
    client.onclipboard = (stream, mimetype) => {
      const reader = new Guacamole.StringReader(stream);
      let text = '';
      reader.ontext = (t) => { text += t; };
      reader.onend = () => s.clipboard.push({ mimetype, text });
    };
    const el = client.getDisplay().getElement();
    el.id = 'guac-display';
    document.body.appendChild(el);
    client.connect(connectData ?? '');
  },

  status() {
    const display = client ? client.getDisplay() : null;
    return JSON.parse(JSON.stringify({
      ...s,
      displayWidth: display ? display.getWidth() : 0,
      displayHeight: display ? display.getHeight() : 0,
    }));
  },

  readPixels(x, y, w, h) {
    if (!client) throw new Error('not connected');
    const display = client.getDisplay();
    return new Promise((resolve) => display.flush(() => {
      const canvas = display.getDefaultLayer().getCanvas();
      const data = canvas.getContext('2d').getImageData(x, y, w, h).data;
      let bin = '';
      for (let i = 0; i < data.length; i += 0x8000) {
        bin += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
      }
      resolve(btoa(bin));
    }));
  },

  sendKey(keysym, pressed) {
    if (pressed === undefined) {
      client.sendKeyEvent(1, keysym);
      client.sendKeyEvent(0, keysym);
    } else client.sendKeyEvent(pressed ? 1 : 0, keysym);
  },

  typeText(text) {
    for (const ch of text) {
      const cp = ch.codePointAt(0);
      const keysym = cp === 10 ? 0xff0d : cp < 0x100 ? cp : 0x01000000 + cp;
      client.sendKeyEvent(1, keysym);
      client.sendKeyEvent(0, keysym);
    }
  },

  sendMouse(x, y, mask) {
    client.sendMouseState(new Guacamole.Mouse.State({
      x, y, left: !!(mask & 1), middle: !!(mask & 2), right: !!(mask & 4), up: !!(mask & 8), down: !!(mask & 16),
    }));
  },

  setClipboard(text, mimetype) {
    const stream = client.createClipboardStream(mimetype || 'text/plain');
    const writer = new Guacamole.StringWriter(stream);
    writer.sendText(text);
    writer.sendEnd();
  },

  resize(w, h) {
    client.sendSize(w, h);
  },

  disconnect() {
    if (client) client.disconnect();
  },
};
window.ghReady = true;
`;
