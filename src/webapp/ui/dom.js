// Tiny DOM helpers for the Gatehouse web UI: build elements without innerHTML (so no markup is ever parsed
// from data), and manage a view's lifetime. Plain browser ES module, no dependencies.

/**
 * Creates an element. props: `class`, `text`, `on<event>` listeners, `aria-*` / `data-*` / `role` / `for`
 * attributes, element properties (value, checked, hidden, type, ...), other attributes (`tabindex`, true
 * sets an empty one, false none); null/undefined are skipped.
 * Children: nodes, strings, arrays of them; null/undefined/false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'for') el.htmlFor = value;
    else if (key.startsWith('aria-') || key.startsWith('data-') || key === 'role')
      el.setAttribute(key, String(value));
    else if (key in el) el[key] = value;
    else if (value !== false) el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

let nextId = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix = 'f') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A status line (polite live region) whose text can be set and cleared. */
export function statusLine(testid) {
  const el = h('p', { class: 'status', role: 'status', 'data-testid': testid });
  return {
    el,
    set(text, kind = 'ok') {
      el.textContent = text;
      el.classList.toggle('bad', kind === 'error');
    },
    clear() {
      el.textContent = '';
    },
  };
}

/** An error box (assertive live region), hidden while empty. */
export function errorBox(testid) {
  const el = h('p', { class: 'error-box', role: 'alert', hidden: true, 'data-testid': testid });
  return {
    el,
    set(text) {
      el.textContent = text;
      el.hidden = !text;
    },
    clear() {
      el.textContent = '';
      el.hidden = true;
    },
  };
}

/**
 * Copies text to the clipboard; where that is refused, selects `fallback` (an input, or any element's text)
 * so Ctrl+C works. Resolves to a sentence for the status line.
 */
export async function copyText(text, fallback) {
  try {
    await navigator.clipboard.writeText(text);
    return 'Copied';
  } catch {
    if (!fallback) return 'Copying is not allowed here; select the text and copy it';
    fallback.focus();
    if (typeof fallback.select === 'function') fallback.select();
    else window.getSelection()?.selectAllChildren(fallback);
    return 'Selected: press Ctrl+C to copy';
  }
}
