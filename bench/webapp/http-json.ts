/**
 * A small JSON client for the webapp benchmark's set-up calls (sign-in, admin CRUD, connect): plain HTTP or
 * HTTPS with the webapp's self-signed certificate as CA, keep-alive, bounded answers and a deadline. It
 * keeps the sign-in cookie and CSRF token of one user. The measured load goes through autocannon, not here.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readCapped } from '../helpers/http-body.js';

const MAX_ANSWER_BYTES = 1 << 20;
const TIMEOUT_MS = 15_000;

export interface JsonAnswer<T> {
  status: number;
  json: T;
  text: string;
  headers: IncomingHttpHeaders;
}

export class JsonClient {
  cookie = '';
  csrf = '';
  private readonly agent: HttpAgent;
  private readonly secure: boolean;

  /** `base` is http(s)://host:port; `ca` the PEM trusted for https. */
  constructor(
    readonly base: string,
    readonly ca: string | null,
  ) {
    this.secure = base.startsWith('https:');
    this.agent = this.secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: 16, ...(ca ? { ca } : {}) })
      : new HttpAgent({ keepAlive: true, maxSockets: 16 });
  }

  /** Headers a signed-in browser sends with a state-changing request. */
  authHeaders(): Record<string, string> {
    return { cookie: this.cookie, 'x-csrf-token': this.csrf };
  }

  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<JsonAnswer<T>> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (payload !== undefined) h['content-type'] = 'application/json';
    if (this.cookie && !('cookie' in h)) h.cookie = this.cookie;
    if (this.csrf && method !== 'GET' && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrf;
    const send = this.secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers: h, agent: this.agent, timeout: TIMEOUT_MS }, (res) => {
        const tooLarge = () => req.destroy(new Error(`${method} ${path}: answer over 1 MiB`));
        readCapped(res, MAX_ANSWER_BYTES, tooLarge).then((body) => {
          const text = body.toString('utf8');
          const setCookie = res.headers['set-cookie']?.[0];
          if (setCookie) this.cookie = setCookie.split(';')[0] ?? '';
          let json = {} as T;
          if ((res.headers['content-type'] ?? '').startsWith('application/json') && text) {
            try {
              json = JSON.parse(text) as T;
            } catch {
              reject(new Error(`${method} ${path}: answer is not JSON: ${text.slice(0, 200)}`));
              return;
            }
          }
          resolve({ status: res.statusCode ?? 0, json, text, headers: res.headers });
        }, reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Signs in; keeps the cookie and the CSRF token. Throws unless 200. */
  async login(username: string, password: string): Promise<void> {
    const r = await this.request<{ csrfToken?: string }>('POST', '/api/login', { username, password });
    if (r.status !== 200)
      throw new Error(`sign-in of ${username} failed: ${r.status} ${r.text.slice(0, 300)}`);
    this.csrf = r.json.csrfToken ?? '';
  }

  /** A request that must answer `expect`; returns the JSON. */
  async must<T = Record<string, unknown>>(
    expect: number,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const r = await this.request<T>(method, path, body);
    if (r.status !== expect) {
      throw new Error(`${method} ${path}: ${r.status} (expected ${expect}): ${r.text.slice(0, 300)}`);
    }
    return r.json;
  }

  close(): void {
    this.agent.destroy();
  }
}
