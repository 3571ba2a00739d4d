// Gatehouse web UI: sign-in, "My servers" and the admin pages, as one page with History routing. The server
// serves index.html for every path without an extension (/, /admin/...); /session/<serverId> is the session
// page, session.html (this page passes it on as /session.html?server=<id>).
import { ApiError, get, onSessionExpired, post, setCsrfToken } from './api.js';
import { h } from './dom.js';
import { renderLogin } from './login.js';
import { renderServers } from './servers.js';

const ADMIN_PAGES = [
  { path: '/admin/servers', title: 'Servers', load: () => import('./admin/servers.js') },
  { path: '/admin/zones', title: 'Zones', load: () => import('./admin/zones.js') },
  { path: '/admin/proxies', title: 'Connection proxies', load: () => import('./admin/proxies.js') },
  { path: '/admin/users', title: 'Users', load: () => import('./admin/users.js') },
  { path: '/admin/groups', title: 'Groups', load: () => import('./admin/groups.js') },
  { path: '/admin/sessions', title: 'Active sessions', load: () => import('./admin/sessions.js') },
];

const ui = {
  top: document.getElementById('top'),
  nav: document.getElementById('nav'),
  who: document.getElementById('who-name'),
  logout: document.getElementById('logout'),
  main: document.getElementById('main'),
};

/** The signed-in user, or null while the sign-in form shows. */
let user = null;
/** Incremented on every render: a view whose generation is past must stop (timers, late answers). */
let generation = 0;
const leaveHooks = [];

function leave() {
  generation += 1;
  for (const fn of leaveHooks.splice(0)) {
    try {
      fn();
    } catch {
      // a view's cleanup failing must not block the next view
    }
  }
}

const SESSION_ROUTE = /^\/session\/([^/]+)\/?$/;

/** The session page for a /session/<id> path, or null. */
function sessionPage(path) {
  try {
    const id = decodeURIComponent(SESSION_ROUTE.exec(path)?.[1] ?? '');
    return id ? `/session.html?server=${encodeURIComponent(id)}` : null;
  } catch {
    return null;
  }
}

/** A same-origin path from ?next= (where sign-in was asked for), or null. */
function nextPath() {
  const next = new URLSearchParams(location.search).get('next');
  return next && /^\/(?![/\\])/.test(next) ? next : null;
}

function showLogin(notice = '') {
  leave();
  user = null;
  setCsrfToken('');
  ui.top.hidden = true;
  document.title = 'Sign in — Gatehouse';
  renderLogin(ui.main, { notice, onLogin: signedIn });
}

function signedIn({ user: who, csrfToken }) {
  user = who;
  setCsrfToken(csrfToken);
  const next = nextPath();
  if (next && sessionPage(next)) {
    location.assign(sessionPage(next));
    return;
  }
  if (next) history.replaceState(null, '', next);
  else if (location.search) history.replaceState(null, '', location.pathname);
  render();
}

function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function buildNav(current) {
  const link = (path, text) =>
    h(
      'a',
      { href: path, 'data-route': '', 'aria-current': path === current ? 'page' : null, class: 'nav-link' },
      text,
    );
  const items = [link('/', 'My servers')];
  if (user?.role === 'admin') {
    items.push(
      h('span', { class: 'nav-label', 'aria-hidden': 'true' }, 'Admin'),
      ...ADMIN_PAGES.map((p) => link(p.path, p.title)),
    );
  }
  ui.nav.replaceChildren(...items);
  ui.who.textContent = user?.displayName || user?.username || '';
  ui.top.hidden = false;
}

async function render() {
  if (!user) return;
  leave();
  const mine = generation;
  let path = location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/admin' && user.role === 'admin') {
    path = ADMIN_PAGES[0].path;
    history.replaceState(null, '', path);
  }
  buildNav(path);
  const ctx = {
    user,
    alive: () => generation === mine,
    onLeave: (fn) => leaveHooks.push(fn),
    navigate,
  };
  const page = ADMIN_PAGES.find((p) => p.path === path);
  try {
    if (path === '/') {
      document.title = 'My servers — Gatehouse';
      await renderServers(ui.main, ctx);
    } else if (page && user.role === 'admin') {
      document.title = `${page.title} — Gatehouse`;
      ui.main.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
      const module = await page.load();
      if (ctx.alive()) await module.render(ui.main, ctx);
    } else {
      document.title = 'Not found — Gatehouse';
      ui.main.replaceChildren(
        h('h1', { tabindex: -1 }, 'Page not found'),
        h(
          'p',
          {},
          'There is nothing here. ',
          h('a', { href: '/', 'data-route': '' }, 'Go to my servers'),
          '.',
        ),
      );
    }
  } catch (err) {
    if (!ctx.alive()) return;
    if (err instanceof ApiError && err.status === 401) return; // the sign-in form is showing
    ui.main.replaceChildren(
      h('h1', { tabindex: -1 }, 'Something went wrong'),
      h('p', { class: 'error-box', role: 'alert' }, err instanceof ApiError ? err.message : String(err)),
    );
  }
  if (ctx.alive()) ui.main.querySelector('h1')?.focus({ preventScroll: true });
}

document.addEventListener('click', (event) => {
  const a = event.target instanceof Element ? event.target.closest('a[data-route]') : null;
  if (!a || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  const path = a.getAttribute('href');
  if (path !== location.pathname) navigate(path);
  else render();
});
window.addEventListener('popstate', () => render());

ui.logout.addEventListener('click', async () => {
  ui.logout.disabled = true;
  try {
    await post('/api/logout');
  } catch {
    // signed out either way: the form shows
  }
  ui.logout.disabled = false;
  history.replaceState(null, '', '/');
  showLogin('You have signed out');
});

onSessionExpired(() => {
  if (user) showLogin('Your session expired, sign in again');
});

async function boot() {
  try {
    const me = await get('/api/me');
    if (me?.user) signedIn(me);
    else showLogin(nextPath() ? 'Sign in to continue' : '');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showLogin(nextPath() ? 'Sign in to continue' : '');
    else {
      ui.main.replaceChildren(
        h('h1', { tabindex: -1 }, 'Gatehouse is not available'),
        h('p', { class: 'error-box', role: 'alert' }, err instanceof ApiError ? err.message : String(err)),
        h('button', { type: 'button', onclick: () => location.reload() }, 'Try again'),
      );
    }
  }
}

if (sessionPage(location.pathname)) location.replace(sessionPage(location.pathname));
else boot();
