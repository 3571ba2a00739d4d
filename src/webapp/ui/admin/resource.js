// One admin page for one API collection (/api/admin/<things>): a table of the items, Add / Edit in a form
// above it, Delete (or another row action) with a confirmation, optional polling while the page is visible.
// Each page module (zones.js, servers.js, ...) describes its columns and fields; this does the rest.
import { ApiError, del, get, patch, post, seg } from '../api.js';
import { append, errorBox, h, statusLine } from '../dom.js';
import { buildForm } from './form.js';

/**
 * spec:
 *  title, noun ('server'), base ('/api/admin/servers'), testid ('servers'), intro?
 *  list?: path of the list (default base)
 *  refs?: async () => reference data ({zones, users, ...}) for columns and fields, reloaded with the list
 *  columns: [{ label, cell(item, refs) → string | Node }]
 *  fields?: (refs, item) → field specs (form.js); without fields there is no Add / Edit
 *  label(item) → its name in messages
 *  created?(answer, page) → the item (for POST answers that wrap it, e.g. {proxy, secret})
 *  rowActions?: [(item, page) → Node]
 *  remove?: { label, confirm(item), done(item) } (default Delete), or false
 *  poll?: ms between list reloads while the page is visible
 *  onForm?(form, item): after the form is built (form.field(name) → its input)
 *  page.slot: an element above the table for extra panels (proxies' secret)
 */
export function resourcePage(spec) {
  return async function render(main, ctx) {
    const status = statusLine(`${spec.testid}-status`);
    const error = errorBox(`${spec.testid}-error`);
    const editor = h('div', { class: 'editor-slot' });
    const slot = h('div', { class: 'panel-slot' });
    const tbody = h('tbody');
    let items = [];
    let refs = {};
    let lastKey = '';
    let opener = null;
    const byId = new Map();

    const page = {
      slot,
      status,
      error,
      ctx,
      reload,
      byId,
      get refs() {
        return refs;
      },
    };

    const addButton = spec.fields
      ? h(
          'button',
          { type: 'button', class: 'primary', 'data-testid': `add-${spec.testid}` },
          `Add ${spec.noun}`,
        )
      : null;
    addButton?.addEventListener('click', () => openEditor(null, addButton));

    const headers = [...spec.columns.map((c) => h('th', { scope: 'col' }, c.label))];
    headers.push(h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')));
    const table = h(
      'table',
      { class: 'table', 'data-testid': `${spec.testid}-table` },
      h('caption', { class: 'visually-hidden' }, spec.title),
      h('thead', {}, h('tr', {}, headers)),
      tbody,
    );

    main.replaceChildren();
    append(main, [
      h('h1', { tabindex: -1 }, spec.title),
      spec.intro ? h('p', { class: 'intro' }, spec.intro) : null,
      error.el,
      status.el,
      addButton ? h('div', { class: 'toolbar' }, addButton) : null,
      editor,
      slot,
      table,
    ]);

    function closeEditor() {
      editor.replaceChildren();
      const back = opener?.isConnected ? opener : addButton;
      opener = null;
      back?.focus();
    }

    async function openEditor(item, from) {
      error.clear();
      status.clear();
      if (spec.refs) {
        try {
          refs = await spec.refs();
        } catch (err) {
          error.set(err instanceof ApiError ? err.message : String(err));
          return;
        }
      }
      if (!ctx.alive()) return;
      opener = from;
      const name = item ? spec.label(item) : '';
      const form = buildForm({
        fields: spec.fields(refs, item),
        item,
        title: item ? `Edit ${spec.noun} ${name}` : `Add ${spec.noun}`,
        submitLabel: item ? 'Save' : `Add ${spec.noun}`,
        testid: `${spec.testid}-form`,
        onCancel: closeEditor,
        onSubmit: async (body) => {
          const answer = item
            ? await patch(`${spec.base}/${seg(item.id)}`, body)
            : await post(spec.base, body);
          closeEditor();
          const saved = !item && spec.created ? spec.created(answer, page) : answer;
          status.set(`${item ? 'Saved' : 'Added'} ${spec.noun} ${spec.label(saved ?? item ?? body)}`);
          await reload();
        },
      });
      editor.replaceChildren(form.el);
      spec.onForm?.(form, item);
      form.el.scrollIntoView?.({ block: 'nearest' });
      form.focusFirst();
    }

    async function removeItem(item, button) {
      const remove = spec.remove ?? {};
      const name = spec.label(item);
      const question = remove.confirm
        ? remove.confirm(item)
        : `Delete ${spec.noun} ${name}? This cannot be undone.`;
      if (!window.confirm(question)) return;
      error.clear();
      button.disabled = true;
      try {
        await del(`${spec.base}/${seg(item.id)}`);
        status.set(remove.done ? remove.done(item) : `Deleted ${spec.noun} ${name}`);
        await reload();
      } catch (err) {
        button.disabled = false;
        const text = err instanceof ApiError ? err.message : String(err);
        error.set(
          err instanceof ApiError && err.status === 409
            ? `${name} is still in use: ${text}`
            : `${name}: ${text}`,
        );
      }
    }

    function actionsCell(item) {
      const buttons = [];
      if (spec.fields) {
        const edit = h(
          'button',
          { type: 'button', 'data-testid': 'edit', 'aria-label': `Edit ${spec.label(item)}` },
          'Edit',
        );
        edit.addEventListener('click', () => {
          const current = byId.get(item.id);
          if (current) openEditor(current, edit);
        });
        buttons.push(edit);
      }
      for (const action of spec.rowActions ?? []) buttons.push(action(item, page));
      if (spec.remove !== false) {
        const label = spec.remove?.label ?? 'Delete';
        const remove = h(
          'button',
          {
            type: 'button',
            class: 'danger',
            'data-testid': 'delete',
            'aria-label': `${label} ${spec.label(item)}`,
          },
          label,
        );
        remove.addEventListener('click', () => removeItem(byId.get(item.id) ?? item, remove));
        buttons.push(remove);
      }
      return h('td', { class: 'row-actions' }, buttons);
    }

    function dataCells(item) {
      return spec.columns.map((c, i) => {
        const content = c.cell(item, refs);
        return i === 0 ? h('th', { scope: 'row' }, content) : h('td', {}, content);
      });
    }

    /** Rebuilds the rows when the set of items changed; otherwise only their data cells (focus stays). */
    function renderRows() {
      const key = items.map((i) => i.id).join('\n');
      if (key === lastKey && tbody.rows.length === items.length && items.length > 0) {
        items.forEach((item, n) => {
          const row = tbody.rows[n];
          const cells = dataCells(item);
          for (const [i, cell] of cells.entries()) row.cells[i].replaceChildren(...cell.childNodes);
          row.setAttribute('data-name', spec.label(item));
        });
        return;
      }
      lastKey = key;
      const focused = document.activeElement;
      const focusKey =
        focused && tbody.contains(focused)
          ? [focused.closest('tr')?.getAttribute('data-id'), focused.getAttribute('data-testid')]
          : null;
      if (items.length === 0) {
        tbody.replaceChildren(
          h(
            'tr',
            {},
            h('td', { colspan: spec.columns.length + 1, class: 'empty' }, spec.empty ?? 'None yet.'),
          ),
        );
      } else {
        tbody.replaceChildren(
          ...items.map((item) =>
            h(
              'tr',
              { 'data-testid': `${spec.testid}-row`, 'data-id': item.id, 'data-name': spec.label(item) },
              dataCells(item),
              actionsCell(item),
            ),
          ),
        );
      }
      if (focusKey) {
        const row = [...tbody.rows].find((r) => r.getAttribute('data-id') === focusKey[0]);
        (
          row?.querySelector(`[data-testid="${focusKey[1]}"]`) ??
          addButton ??
          main.querySelector('h1')
        )?.focus();
      }
    }

    async function reload() {
      const [list, nextRefs] = await Promise.all([
        get(spec.list ?? spec.base),
        spec.refs ? spec.refs() : Promise.resolve(refs),
      ]);
      if (!ctx.alive()) return;
      refs = nextRefs;
      items = Array.isArray(list?.items) ? list.items : [];
      if (spec.sort) items.sort(spec.sort);
      byId.clear();
      for (const item of items) byId.set(item.id, item);
      renderRows();
    }

    await reload();
    if (spec.poll) {
      let busy = false;
      const timer = setInterval(async () => {
        if (busy || document.hidden || !ctx.alive()) return;
        busy = true;
        try {
          await reload();
        } catch {
          // the next tick tries again; a 401 has shown the sign-in form
        } finally {
          busy = false;
        }
      }, spec.poll);
      ctx.onLeave(() => clearInterval(timer));
    }
  };
}

/** Sorts by a string property, case-insensitively. */
export const byText = (key) => (a, b) => String(a[key] ?? '').localeCompare(String(b[key] ?? ''));

/** Options for a select/checklist from a list of records. */
export const optionsOf = (list, label = (x) => x.name) =>
  (list ?? []).map((x) => ({ value: x.id, label: label(x) }));

/** The name of a referenced record, or a placeholder when it is gone. */
export function nameOf(list, id, label = (x) => x.name) {
  const found = (list ?? []).find((x) => x.id === id);
  return found ? label(found) : '(unknown)';
}

export const yesNo = (v) => (v ? 'Yes' : 'No');
