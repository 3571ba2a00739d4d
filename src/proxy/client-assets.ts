/**
 * The browser client's files as the proxy serves them: URL path → file under dist/public (put there by
 * scripts/copy-client-assets.mjs from src/proxy/client/ and guacamole-common-js), with its content type.
 */
import { fromRoot } from '../util/paths.js';

export interface ClientAsset {
  /** File name under clientAssetsDir(). */
  file: string;
  contentType: string;
}

export const CLIENT_ASSETS: Readonly<Record<string, ClientAsset>> = Object.freeze({
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/client.js': { file: 'client.js', contentType: 'text/javascript; charset=utf-8' },
  '/client.css': { file: 'client.css', contentType: 'text/css; charset=utf-8' },
  '/guacamole-common.js': { file: 'guacamole-common.js', contentType: 'text/javascript; charset=utf-8' },
});

/** The Content-Security-Policy the page is built to run under (no inline script or style, no eval). */
export const CLIENT_CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self'";

/** dist/public: where the client's files are served from. */
export function clientAssetsDir(): string {
  return fromRoot('dist', 'public');
}
