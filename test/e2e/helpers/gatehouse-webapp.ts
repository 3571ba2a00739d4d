// `gatehouse webapp` as a process for tests (HTTPS with its self-signed certificate, SQLite in a temp data
// directory or a PostgreSQL URL), and a small API client that signs in and keeps the cookie + CSRF token.

import { mkdtemp, readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../../helpers/paths.js';
import { freePort, LOOPBACK, waitForPort } from './free-port.js';
import { jsonLines, ProcessGroup, pollUntil, registerTempDir, removeTempDir } from './processes.js';

export const ADMIN_PASSWORD = 'admin-password-1';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  json: T;
  text: string;
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** HTTPS JSON client for one webapp; sign in to keep a cookie and CSRF token. */
export class ApiClient {
  cookie = '';
  csrf = '';
  constructor(
    readonly base: string,
    readonly ca: string,
  ) {}

  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const h: Record<string, string> = { ...headers };
    if (payload !== undefined && !h['content-type']) h['content-type'] = 'application/json';
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf && method !== 'GET' && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrf;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, headers: h, ca: this.ca, timeout: 15_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          const setCookie = res.headers['set-cookie'];
          if (setCookie?.[0]) {
            const [pair] = setCookie[0].split(';');
            this.cookie = pair?.endsWith('=') ? '' : (pair ?? '');
          }
          let json = {} as T;
          if ((res.headers['content-type'] ?? '').startsWith('application/json') && text)
            json = JSON.parse(text) as T;
          resolve({ status: res.statusCode ?? 0, json, text, raw, headers: res.headers });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async login(username: string, password: string): Promise<ApiAnswer> {
    const r = await this.request<{ csrfToken?: string }>('POST', '/api/login', { username, password });
    if (r.status === 200) this.csrf = r.json.csrfToken ?? '';
    return r as ApiAnswer;
  }

  /** A new client for the same webapp (another browser). */
  fresh(): ApiClient {
    return new ApiClient(this.base, this.ca);
  }
}

export interface WebappProcess {
  port: number;
  url: string;
  ca: string;
  caFile: string;
  dataDir: string;
  process: ProcessGroup;
  admin: ApiClient;
  logs(): Array<Record<string, unknown>>;
  /** Creates a proxy record and returns its id and secret. */
  addProxy(
    name: string,
    opts?: { zoneId?: string; kind?: 'guac' | 'rdp-gateway'; address?: string },
  ): Promise<{ id: string; secret: string }>;
  defaultZone(): Promise<string>;
  stop(): Promise<void>;
}

export interface WebappStartOptions {
  database?: string;
  env?: Record<string, string>;
}

export async function startGatehouseWebapp(opts: WebappStartOptions = {}): Promise<WebappProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-webapp-'));
  registerTempDir(dir);
  const port = await freePort();
  const group = new ProcessGroup(
    process.execPath,
    [fromRoot('dist/src/cli/main.js'), 'webapp', '--listen', `${LOOPBACK}:${port}`, '--log-format', 'json'],
    {
      cwd: dir,
      env: {
        ...process.env,
        GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        GATEHOUSE_WEBAPP_CHECK_RESPONSES: '1',
        GATEHOUSE_WEBAPP__DATA_DIR: join(dir, 'data'),
        GATEHOUSE_WEBAPP__DATABASE: opts.database ?? '',
        GATEHOUSE_LOG__LEVEL: 'debug',
        ...opts.env,
      },
    },
  );
  await waitForPort(port, 30_000, () =>
    group.hasExited ? `gatehouse webapp exited:\n${group.output()}` : undefined,
  );
  await pollUntil(
    'webapp listening',
    () => {
      if (group.hasExited) throw new Error(`gatehouse webapp exited:\n${group.output()}`);
      return group.output().includes('webapp listening on') ? true : undefined;
    },
    30_000,
  );
  const caFile = join(dir, 'data', 'webapp-tls.crt');
  const ca = await readFile(caFile, 'utf8');
  const url = `https://${LOOPBACK}:${port}`;
  const admin = new ApiClient(url, ca);
  const r = await admin.login('admin', ADMIN_PASSWORD);
  if (r.status !== 200) throw new Error(`admin sign-in failed: ${r.status} ${r.text}`);
  const defaultZone = async () => {
    const zones = await admin.request<{ items: { id: string; name: string }[] }>('GET', '/api/admin/zones');
    const z = zones.json.items.find((x) => x.name === 'default');
    if (!z) throw new Error('no default zone');
    return z.id;
  };
  return {
    port,
    url,
    ca,
    caFile,
    dataDir: join(dir, 'data'),
    process: group,
    admin,
    logs: () => jsonLines(group.output()),
    defaultZone,
    async addProxy(name, o = {}) {
      const res = await admin.request<{ proxy: { id: string }; secret: string }>(
        'POST',
        '/api/admin/proxies',
        {
          name,
          zoneId: o.zoneId ?? (await defaultZone()),
          kind: o.kind ?? 'guac',
          ...(o.address ? { address: o.address } : {}),
        },
      );
      if (res.status !== 201) throw new Error(`add proxy: ${res.status} ${res.text}`);
      return { id: res.json.proxy.id, secret: res.json.secret };
    },
    async stop() {
      await group.stop(8000);
      await removeTempDir(dir);
    },
  };
}

/** Environment for a `gatehouse proxy` that redeems with (and registers at) this webapp. */
export function proxyEnvFor(
  webapp: WebappProcess,
  name: string,
  secret: string,
  proxyPort: number,
): Record<string, string> {
  return {
    GATEHOUSE_PROXY_AUTH__MODE: 'webapp',
    GATEHOUSE_PROXY_AUTH__WEBAPP__URL: `${webapp.url}/api/proxy/redeem`,
    GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_ID: name,
    GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_TOKEN: secret,
    GATEHOUSE_PROXY_AUTH__WEBAPP__CA_FILE: webapp.caFile,
    GATEHOUSE_PROXY_AUTH__WEBAPP__ADVERTISE_URL: `http://${LOOPBACK}:${proxyPort}`,
    GATEHOUSE_PROXY_AUTH__WEBAPP__ZONE: 'default',
  };
}
