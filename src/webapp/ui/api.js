// The webapp's JSON API as the browser UI uses it: same-origin cookies (HttpOnly, so never seen here), the
// CSRF header on every state-changing request except login, errors as ApiError with a sentence a user
// understands. A 401 on anything but login/me means the login session ended: the registered handler runs.

const TIMEOUT_MS = 30_000;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = '';
let onExpired = null;

export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' ? token : '';
}

/** fn() runs when a request is refused because the login session ended (401). */
export function onSessionExpired(fn) {
  onExpired = fn;
}

/** What an HTTP status means to a user when the API gave no message. */
const STATUS_WORDS = {
  400: 'The request was not accepted',
  401: 'Your session expired, sign in again',
  403: 'You are not allowed to do this',
  404: 'Not found: it may have been deleted',
  409: 'This conflicts with existing data',
  413: 'That is too much data',
  429: 'Too many requests; wait a moment and try again',
  500: 'The server failed; try again',
  502: 'The server is not reachable right now',
  503: 'The service is not available right now',
  504: 'The server did not answer in time',
};

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {string} code the API's error code ('network', 'timeout' for failures before an answer)
   * @param {string} message a sentence for the user
   * @param {string | null} field the JSON path the API named, if any
   * @param {number | null} retryAfter seconds, from Retry-After
   */
  constructor(status, code, message, field = null, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

function retryAfterSeconds(res) {
  const value = res.headers.get('retry-after');
  if (!value) return null;
  const n = Number(value);
  if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - Date.now()) / 1000)) : null;
}

async function errorOf(res) {
  let body = null;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    body = await res.json().catch(() => null);
  }
  const code = typeof body?.error === 'string' ? body.error : `http-${res.status}`;
  const text = typeof body?.message === 'string' && body.message.trim() ? body.message.trim() : null;
  const message = text ?? STATUS_WORDS[res.status] ?? `The server answered with error ${res.status}`;
  const field = typeof body?.field === 'string' && body.field ? body.field : null;
  return new ApiError(res.status, code, message, field, retryAfterSeconds(res));
}

async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method) && path !== '/api/login') headers['X-CSRF-Token'] = csrfToken;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    if (err?.name === 'TimeoutError') throw new ApiError(0, 'timeout', 'The server did not answer in time');
    throw new ApiError(0, 'network', 'Cannot reach the server; check your network connection');
  }
}

/**
 * One API call. Resolves to the parsed JSON body (null for 204), or with `{ raw: true }` to the Response
 * itself (downloads). Rejects with ApiError.
 */
export async function api(method, path, body, { raw = false } = {}) {
  let res = await send(method, path, body);
  if (res.status === 403 && UNSAFE.has(method) && path !== '/api/login') {
    // A stale CSRF token (another tab signed in again): refresh it once and retry.
    const err = await errorOf(res.clone());
    if (/csrf/i.test(err.code) && (await refreshCsrf())) res = await send(method, path, body);
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && path !== '/api/login' && path !== '/api/me') onExpired?.(err);
    throw err;
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) return null;
  return res.json().catch(() => {
    throw new ApiError(res.status, 'bad-response', 'The server sent an answer this page cannot read');
  });
}

async function refreshCsrf() {
  try {
    const me = await api('GET', '/api/me');
    setCsrfToken(me?.csrfToken);
    return Boolean(csrfToken);
  } catch {
    return false;
  }
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

/** Path segment for an id (ids are UUIDs, but never trust that in a URL). */
export const seg = (id) => encodeURIComponent(String(id));

/** The sentence for a failed connect or .rdp download (503 with no healthy proxy, and friends). */
export function connectErrorText(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong; try again';
  if (err.status === 503) {
    return err.code === 'no-proxy' || !err.message || err.message === STATUS_WORDS[503]
      ? 'No connection proxy is available for this server right now'
      : err.message;
  }
  if (err.status === 403) return 'You are not allowed to use this server';
  if (err.status === 404) return 'This server does not exist (any more)';
  return err.message;
}
