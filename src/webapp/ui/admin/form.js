// Admin forms: fields built from a small spec, the JSON body collected from them (write-only fields only
// when filled in), and API errors shown next to the field the API names (`field`: a JSON path).
import { ApiError } from '../api.js';
import { errorBox, h, uid } from '../dom.js';

export const DLP_LABELS = {
  clipboardUp: 'Clipboard: paste into the remote',
  clipboardDown: 'Clipboard: copy from the remote',
  download: 'File download',
  upload: 'File upload',
  audio: 'Audio',
  printing: 'Printing',
  drives: 'Drive redirection',
  smartCard: 'Smart cards',
  usb: 'USB devices',
  webcam: 'Webcam',
};

/** A problem found before sending: shown next to the field like an API error. */
class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/** "$.a.b", "/a/b", "body.a[0]" → "a.b" / "a.0". */
export function normalizePath(path) {
  return String(path)
    .replace(/^\$\.?/, '')
    .replace(/^\/+/, '')
    .replace(/^(body|json)[./]/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/\//g, '.');
}

function described(control, ...ids) {
  control.setAttribute('aria-describedby', ids.filter(Boolean).join(' '));
  return control;
}

function simpleField(f, item, isCreate) {
  const id = uid(f.name);
  const err = h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
  const hintText = isCreate ? f.hint : (f.editHint ?? f.hint);
  const hint = hintText ? h('p', { class: 'hint', id: `${id}-hint` }, hintText) : null;
  const value = item?.[f.name];
  let input;
  if (f.kind === 'select') {
    const options = typeof f.options === 'function' ? f.options() : f.options;
    input = h(
      'select',
      { id, name: f.name, required: Boolean(f.required) },
      options.map((o) => h('option', { value: o.value }, o.label)),
    );
    const initial = value ?? f.default ?? options[0]?.value;
    if (initial !== undefined) input.value = String(initial);
  } else if (f.kind === 'kv') {
    const lines = Object.entries(value ?? {}).map(([k, v]) => `${k}=${v}`);
    input = h('textarea', { id, name: f.name, rows: 4, spellcheck: false, value: lines.join('\n') });
  } else {
    const type = f.kind === 'password' ? 'password' : f.kind === 'number' ? 'number' : 'text';
    input = h('input', {
      id,
      name: f.name,
      type,
      required: Boolean(f.required && (isCreate || !f.writeOnly)),
      autocomplete: f.autocomplete ?? (type === 'password' ? 'new-password' : 'off'),
      spellcheck: false,
      min: f.min,
      max: f.max,
      placeholder: f.placeholder,
    });
    if (value !== undefined && value !== null && !f.writeOnly) input.value = String(value);
    else if (isCreate && f.default !== undefined) input.value = String(f.default);
    if (f.createOnly && !isCreate) input.readOnly = true;
  }
  input.setAttribute('data-testid', `field-${f.name}`);
  described(input, hint?.id, err.id);
  const el = h(
    'div',
    { class: 'field', 'data-field': f.name },
    h('label', { for: id }, f.label),
    input,
    hint,
    err,
  );
  return {
    el,
    input,
    collect(body) {
      if (f.createOnly && !isCreate) return;
      if (f.kind === 'kv') body[f.name] = parseKv(f.name, input.value);
      else if (f.kind === 'number') {
        if (input.value.trim() === '') {
          if (f.required) throw new FieldError(f.name, 'Enter a number');
          return;
        }
        const n = Number(input.value);
        if (!Number.isInteger(n)) throw new FieldError(f.name, 'Enter a whole number');
        body[f.name] = n;
      } else {
        const v = f.kind === 'password' ? input.value : input.value.trim();
        if (f.writeOnly && v === '') return;
        if (f.required && v === '') throw new FieldError(f.name, `Enter the ${f.label.toLowerCase()}`);
        body[f.name] = v;
      }
    },
  };
}

function parseKv(name, text) {
  const out = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!key) throw new FieldError(name, `Line ${i + 1}: write name=value`);
    out[key] = line.slice(eq + 1);
  }
  return out;
}

function checkboxField(f, item, isCreate) {
  const id = uid(f.name);
  const hint = f.hint ? h('p', { class: 'hint', id: `${id}-hint` }, f.hint) : null;
  const err = h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
  const input = h('input', {
    id,
    type: 'checkbox',
    name: f.name,
    checked: Boolean(item ? item[f.name] : (f.default ?? false)),
    'data-testid': `field-${f.name}`,
  });
  described(input, hint?.id, err.id);
  return {
    el: h(
      'div',
      { class: 'field check', 'data-field': f.name },
      input,
      h('label', { for: id }, f.label),
      hint,
      err,
    ),
    input,
    collect(body) {
      if (f.createOnly && !isCreate) return;
      body[f.name] = input.checked;
    },
  };
}

function fieldset(f, legend, children, hintText) {
  const err = h('p', { class: 'field-error', hidden: true });
  const hint = hintText ? h('p', { class: 'hint' }, hintText) : null;
  return h(
    'fieldset',
    { class: `group ${f.kind}`, 'data-field': f.name, 'data-testid': `field-${f.name}` },
    h('legend', {}, legend),
    hint,
    children,
    err,
  );
}

function checklistField(f, item) {
  const selected = new Set(item?.[f.name] ?? []);
  const options = f.options();
  const boxes = options.map((o) => {
    const id = uid(f.name);
    const input = h('input', { id, type: 'checkbox', value: o.value, checked: selected.has(o.value) });
    input.setAttribute('data-testid', `${f.name}-option`);
    input.setAttribute('data-label', o.label);
    return { input, el: h('div', { class: 'check' }, input, h('label', { for: id }, o.label)) };
  });
  const list =
    boxes.length > 0
      ? h(
          'div',
          { class: 'checklist' },
          boxes.map((b) => b.el),
        )
      : h('p', { class: 'hint' }, f.empty ?? 'None to choose from yet.');
  return {
    el: fieldset(f, f.label, list, f.hint),
    input: boxes[0]?.input,
    collect(body) {
      body[f.name] = boxes.filter((b) => b.input.checked).map((b) => b.input.value);
    },
  };
}

function dlpField(f, item) {
  const current = item?.[f.name] ?? {};
  const selects = Object.entries(DLP_LABELS).map(([key, label]) => {
    const id = uid(`dlp-${key}`);
    const select = h(
      'select',
      { id, name: `${f.name}.${key}`, 'data-testid': `dlp-${key}` },
      h('option', { value: '' }, 'Not set'),
      h('option', { value: 'true' }, 'Allow'),
      h('option', { value: 'false' }, 'Block'),
    );
    select.value = current[key] === true ? 'true' : current[key] === false ? 'false' : '';
    return {
      key,
      select,
      el: h(
        'div',
        { class: 'dlp-item', 'data-field': `${f.name}.${key}` },
        h('label', { for: id }, label),
        select,
      ),
    };
  });
  return {
    el: fieldset(
      f,
      f.label,
      h(
        'div',
        { class: 'dlp-grid' },
        selects.map((s) => s.el),
      ),
      f.hint,
    ),
    input: selects[0]?.select,
    collect(body) {
      const dlp = {};
      for (const s of selects) if (s.select.value) dlp[s.key] = s.select.value === 'true';
      body[f.name] = dlp;
    },
  };
}

function credentialsField(f, item, isCreate) {
  const stored = Boolean(item?.hasCredentials);
  const inputs = ['username', 'password', 'domain'].map((part) => {
    const id = uid(`cred-${part}`);
    const input = h('input', {
      id,
      type: part === 'password' ? 'password' : 'text',
      autocomplete: part === 'password' ? 'new-password' : 'off',
      spellcheck: false,
      'data-testid': `credentials-${part}`,
    });
    const label = { username: 'User name', password: 'Password', domain: 'Domain' }[part];
    return {
      part,
      input,
      el: h(
        'div',
        { class: 'field', 'data-field': `${f.name}.${part}` },
        h('label', { for: id }, label),
        input,
      ),
    };
  });
  const clearId = uid('cred-clear');
  const clear = h('input', { id: clearId, type: 'checkbox', 'data-testid': 'credentials-clear' });
  const status = isCreate
    ? 'Optional: the account the proxy signs in to the server with. Users never see it.'
    : stored
      ? 'Stored (never shown). Leave empty to keep them; anything typed here replaces all three.'
      : 'None stored.';
  const clearBox = stored
    ? h('div', { class: 'check' }, clear, h('label', { for: clearId }, 'Remove the stored credentials'))
    : null;
  return {
    el: fieldset(
      f,
      f.label,
      [
        h('p', { class: 'hint', 'data-testid': 'credentials-status' }, status),
        inputs.map((i) => i.el),
        clearBox,
      ],
      null,
    ),
    input: inputs[0]?.input,
    collect(body) {
      if (stored && clear.checked) {
        body[f.name] = null;
        return;
      }
      const creds = {};
      for (const { part, input } of inputs) {
        const v = part === 'password' ? input.value : input.value.trim();
        if (v) creds[part] = v;
      }
      if (Object.keys(creds).length > 0) body[f.name] = creds;
    },
  };
}

function buildField(f, item, isCreate) {
  switch (f.kind) {
    case 'checkbox':
      return checkboxField(f, item, isCreate);
    case 'checklist':
      return checklistField(f, item, isCreate);
    case 'dlp':
      return dlpField(f, item, isCreate);
    case 'credentials':
      return credentialsField(f, item, isCreate);
    default:
      return simpleField(f, item, isCreate);
  }
}

/**
 * A create/edit form. fields: specs {name, label, kind, required, createOnly, writeOnly, hint, editHint,
 * options, default, min, max}; item: the record being edited, or null to create. onSubmit(body) may throw
 * ApiError: its `field` decides where the message shows.
 */
export function buildForm({ fields, item, title, submitLabel, onSubmit, onCancel, testid }) {
  const isCreate = !item;
  const built = fields.map((f) => ({ spec: f, ...buildField(f, item, isCreate) }));
  const formError = errorBox(`${testid}-error`);
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'save' }, submitLabel);
  const cancel = h(
    'button',
    { type: 'button', 'data-testid': 'cancel', onclick: () => onCancel() },
    'Cancel',
  );
  const headingId = uid('form-title');
  const form = h(
    'form',
    { class: 'card editor', novalidate: true, 'aria-labelledby': headingId, 'data-testid': testid },
    h('h2', { id: headingId }, title),
    formError.el,
    built.map((b) => b.el),
    h('div', { class: 'actions' }, submit, cancel),
  );
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      onCancel();
    }
  });

  function clearErrors() {
    formError.clear();
    for (const p of form.querySelectorAll('.field-error')) {
      p.textContent = '';
      p.hidden = true;
    }
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  }

  /** Shows the message next to the field the path names (the longest match), else above the form. */
  function showError(path, message) {
    const want = path ? normalizePath(path) : '';
    let best = null;
    for (const el of form.querySelectorAll('[data-field]')) {
      const name = el.getAttribute('data-field');
      if ((want === name || want.startsWith(`${name}.`)) && name.length > (best?.name.length ?? -1)) {
        best = { el, name };
      }
    }
    if (!best) {
      formError.set(message);
      formError.el.scrollIntoView?.({ block: 'nearest' });
      return;
    }
    const holder = best.el.closest('fieldset.group') ?? best.el;
    const err = best.el.querySelector('.field-error') ?? holder.querySelector(':scope > .field-error');
    const control = best.el.querySelector('input, select, textarea');
    if (err) {
      err.textContent = message;
      err.hidden = false;
    } else formError.set(message);
    control?.setAttribute('aria-invalid', 'true');
    control?.focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    clearErrors();
    const body = {};
    try {
      for (const b of built) b.collect(body);
    } catch (err) {
      if (err instanceof FieldError) return showError(err.field, err.message);
      throw err;
    }
    submit.disabled = true;
    try {
      await onSubmit(body);
    } catch (err) {
      if (err instanceof ApiError) showError(err.field, err.message);
      else formError.set(String(err?.message ?? err));
    } finally {
      submit.disabled = false;
    }
  });

  return {
    el: form,
    focusFirst() {
      const first = built.find((b) => b.input && !b.input.readOnly)?.input;
      first?.focus();
    },
    field: (name) => built.find((b) => b.spec.name === name)?.input,
  };
}
