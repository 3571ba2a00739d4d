/**
 * The web UI's files as the webapp serves them. The build copies src/webapp/ui/** to dist/public/webapp/;
 * the session page reuses the proxy's browser client (dist/public/client.js, client.css and
 * guacamole-common.js, copied there by scripts/copy-client-assets.mjs), served at the same paths as the
 * proxy serves them, so client.js's `import './guacamole-common.js'` resolves.
 *
 * Routes: index.html for `/`, `/admin` and `/admin/...` (the page routes itself with the History API);
 * session.html for `/session/<serverId>`; every other file by its URL path in WEBAPP_UI_ASSETS.
 */
import { CLIENT_ASSETS, CLIENT_CSP, clientAssetsDir } from '../proxy/client-assets.js';

export interface UiAsset {
  /** Path under webappPublicDir(). */
  file: string;
  contentType: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const HTML = 'text/html; charset=utf-8';

/** Files under src/webapp/ui/ served at /ui/<file> (the two HTML pages are served for routes instead). */
export const WEBAPP_UI_FILES: readonly string[] = Object.freeze([
  'app.css',
  'session.css',
  'api.js',
  'app.js',
  'dom.js',
  'format.js',
  'login.js',
  'servers.js',
  'session.js',
  'admin/form.js',
  'admin/groups.js',
  'admin/proxies.js',
  'admin/resource.js',
  'admin/servers.js',
  'admin/sessions.js',
  'admin/users.js',
  'admin/zones.js',
]);

export const WEBAPP_PAGES = Object.freeze({
  index: { file: 'webapp/index.html', contentType: HTML } as UiAsset,
  session: { file: 'webapp/session.html', contentType: HTML } as UiAsset,
});

/** URL path → file, for everything but the pages. */
export const WEBAPP_UI_ASSETS: Readonly<Record<string, UiAsset>> = Object.freeze({
  ...Object.fromEntries(
    WEBAPP_UI_FILES.map((f) => [
      `/ui/${f}`,
      { file: `webapp/${f}`, contentType: f.endsWith('.css') ? CSS : JS },
    ]),
  ),
  // The proxy's browser client, for the session page.
  ...Object.fromEntries(Object.entries(CLIENT_ASSETS).filter(([path]) => path !== '/')),
});

const SESSION_ROUTE = /^\/session\/[^/]+\/?$/;

/** The HTML page a GET of `pathname` (no query) gets, or null when it is no UI route. */
export function uiPageFor(pathname: string): UiAsset | null {
  if (pathname === '/' || pathname === '/admin' || pathname.startsWith('/admin/')) return WEBAPP_PAGES.index;
  if (SESSION_ROUTE.test(pathname)) return WEBAPP_PAGES.session;
  return null;
}

/** The CSP the UI is built to run under: the client's (no inline code, no eval), and no framing. */
export const WEBAPP_CSP = `${CLIENT_CSP}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;

/** dist/public: the UI's files are under webapp/, the session client's at the top. */
export function webappPublicDir(): string {
  return clientAssetsDir();
}
