// WebappRedeemer against a real HTTPS server started here (self-signed certificate made with openssl and
// trusted through `ca`): the JSON contract, the bearer credential, and every status mapping.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import type { AuthError } from '../../src/proxy/auth/errors.js';
import { redeemRequestSchema } from '../../src/proxy/auth/schemas.js';
import {
  type RedeemRequest,
  WebappRedeemer,
  type WebappRedeemerOptions,
} from '../../src/proxy/auth/webapp.js';
import { DEFAULT_POLICY, TunnelError } from '../../src/proxy/types.js';
import { writeTestCertificate } from '../helpers/test-cert.js';

const PROXY_TOKEN = 'proxy-secret-credential';
const CTX = { remoteAddress: '198.51.100.7', userAgent: 'Mozilla/5.0 test' };
const TARGET = { protocol: 'vnc', params: { hostname: '10.0.0.5', port: '5900', password: 'pw' } };

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: RedeemRequest;
}

const seen: Seen[] = [];
const json = (res: http.ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

/** The fake webapp: the token in the request picks the answer. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as RedeemRequest;
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    if (req.headers.authorization !== `Bearer ${PROXY_TOKEN}`) {
      json(res, 401, { error: 'proxy-unauthorized' });
      return;
    }
    switch (body.token) {
      case 'good':
        json(res, 200, { id: 'grant-1', user: 'alice', target: TARGET, policy: { disablePaste: true } });
        return;
      case 'expiring':
        json(res, 200, { id: 'g2', user: '', target: TARGET, policy: {}, expiresAt: '2030-01-02T03:04:05Z' });
        return;
      case 'token-invalid':
        json(res, 401, { error: 'token-invalid' });
        return;
      case 'forbidden':
        json(res, 403, { error: 'forbidden' });
        return;
      case 'bare-401':
        res.writeHead(401).end();
        return;
      case 'unknown-target':
        json(res, 404, { error: 'unknown-target' });
        return;
      case 'bare-404':
        res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
        return;
      case 'slow':
        setTimeout(() => json(res, 200, {}), 5000).unref();
        return;
      case 'slow-body':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id":');
        return;
      case 'not-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"id": "x", ');
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
        return;
      case 'bad-shape':
        json(res, 200, {
          id: 'x',
          user: 'u',
          target: { protocol: 'vnc', params: { port: 5900 } },
          policy: {},
        });
        return;
      case 'no-policy':
        json(res, 200, { id: 'x', user: 'u', target: TARGET });
        return;
      case 'bad-date':
        json(res, 200, { id: 'x', user: 'u', target: TARGET, policy: {}, expiresAt: 'tomorrow' });
        return;
      case 'oversize':
        json(res, 200, { id: 'x', user: 'u', target: TARGET, policy: {}, pad: 'x'.repeat(70_000) });
        return;
      case 'oversize-chunked':
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 20; i++) res.write('x'.repeat(8192));
        res.end();
        return;
      case 'unavailable':
        json(res, 503, { error: 'maintenance' });
        return;
      case 'crash':
        json(res, 500, { error: 'boom' });
        return;
      case 'redirect':
        res.writeHead(302, { location: 'https://example.invalid/' }).end();
        return;
      default:
        json(res, 400, { error: 'unexpected test token' });
    }
  });
}

let dir: string;
let cert: string;
let server: https.Server;
let plain: http.Server;
let base: string;
let plainBase: string;
const redeemers: WebappRedeemer[] = [];

function make(options: Partial<WebappRedeemerOptions> = {}): WebappRedeemer {
  const r = new WebappRedeemer({
    url: `${base}/api/proxy/redeem`,
    proxyId: 'proxy-7',
    proxyToken: PROXY_TOKEN,
    ca: cert,
    timeoutMs: 2000,
    ...options,
  });
  redeemers.push(r);
  return r;
}

async function failsWith(p: Promise<unknown>, status: number, reason?: string): Promise<AuthError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TunnelError, String(err));
    const e = err as AuthError;
    assert.equal(e.status, status, `status 0x${e.status.toString(16)} (${e.reason}: ${e.detail})`);
    if (reason !== undefined) assert.equal(e.reason, reason, e.detail);
    assert.ok(!e.message.includes(PROXY_TOKEN) && !e.detail.includes(PROXY_TOKEN));
    return e;
  }
  assert.fail('expected a failure');
}

const listen = (s: http.Server): Promise<number> =>
  new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

describe('WebappRedeemer', { timeout: 30_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-webapp-'));
    const made = writeTestCertificate(dir, 'localhost');
    cert = made.cert;
    server = https.createServer({ key: made.key, cert }, handler);
    base = `https://127.0.0.1:${await listen(server)}`;
    plain = http.createServer(handler);
    plainBase = `http://127.0.0.1:${await listen(plain)}`;
  });

  after(() => {
    for (const r of redeemers) r.close();
    for (const s of [server, plain]) {
      s?.closeAllConnections();
      s?.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('200: the grant, policy over the defaults; request body, bearer and headers as documented', async () => {
    seen.length = 0;
    const grant = await make().redeem('good', CTX);
    assert.deepEqual(grant, {
      id: 'grant-1',
      user: 'alice',
      target: TARGET,
      policy: { ...DEFAULT_POLICY, disablePaste: true },
    });
    const [req] = seen;
    assert.ok(req);
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/api/proxy/redeem');
    assert.equal(req.headers.authorization, `Bearer ${PROXY_TOKEN}`);
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.accept, 'application/json');
    assert.deepEqual(req.body, {
      token: 'good',
      proxy: { id: 'proxy-7' },
      client: { remoteAddress: '198.51.100.7', userAgent: 'Mozilla/5.0 test' },
    });
    assert.ok(new Ajv({ strict: true }).validate(redeemRequestSchema, req.body), 'request fits its schema');
    const e = await make().redeem('expiring', { remoteAddress: '::1' });
    assert.equal(e.expiresAtMs, Date.parse('2030-01-02T03:04:05Z'));
    assert.deepEqual(seen[1]?.body.client, { remoteAddress: '::1' });
  });

  it('connections are reused (keep-alive) across redeems', async () => {
    const r = make();
    let connections = 0;
    const count = (): void => {
      connections++;
    };
    server.on('secureConnection', count);
    try {
      for (let i = 0; i < 5; i++) await r.redeem('good', CTX);
    } finally {
      server.off('secureConnection', count);
    }
    assert.equal(connections, 1);
  });

  it('401/403 → 0x0301; 404 unknown-target → 0x0207; a bare 404 (wrong url) → 0x0200', async () => {
    const r = make();
    await failsWith(r.redeem('token-invalid', CTX), 0x0301, 'refused');
    await failsWith(r.redeem('forbidden', CTX), 0x0301, 'refused');
    await failsWith(r.redeem('bare-401', CTX), 0x0301, 'refused');
    await failsWith(r.redeem('unknown-target', CTX), 0x0207, 'unknown-target');
    await failsWith(r.redeem('bare-404', CTX), 0x0200, 'webapp-error');
  });

  it('a proxy credential the webapp does not accept → 0x0200 proxy-unauthorized (not the user’s fault)', async () => {
    await failsWith(make({ proxyToken: 'wrong' }).redeem('good', CTX), 0x0200, 'proxy-unauthorized');
  });

  it('slow server → 0x0202 within timeoutMs (no answer, or a body that stalls)', async () => {
    const r = make({ timeoutMs: 300 });
    for (const token of ['slow', 'slow-body']) {
      const start = Date.now();
      await failsWith(r.redeem(token, CTX), 0x0202, 'timeout');
      const elapsed = Date.now() - start;
      assert.ok(elapsed >= 280 && elapsed < 1500, `${token}: ${elapsed} ms`);
    }
  });

  it('refused port, and a certificate not trusted (no ca) → 0x0208', async () => {
    const probe = http.createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    await failsWith(make({ url: `https://127.0.0.1:${port}/x` }).redeem('good', CTX), 0x0208, 'unreachable');
    const e = await failsWith(make({ ca: undefined }).redeem('good', CTX), 0x0208, 'unreachable');
    assert.match(e.detail, /self.signed|certificate/i);
  });

  it('malformed answers → 0x0200: invalid JSON, not JSON, wrong shape, no policy, bad date, oversize', async () => {
    const r = make();
    for (const token of [
      'not-json',
      'html',
      'bad-shape',
      'no-policy',
      'bad-date',
      'oversize',
      'oversize-chunked',
    ]) {
      const e = await failsWith(r.redeem(token, CTX), 0x0200, 'bad-response');
      assert.ok(e.detail.length < 300, `${token}: short detail`);
    }
    // The redeemer still works after an oversize answer was cut off.
    assert.equal((await r.redeem('good', CTX)).id, 'grant-1');
  });

  it('503 → 0x0208; 500 and redirects → 0x0200', async () => {
    const r = make();
    await failsWith(r.redeem('unavailable', CTX), 0x0208);
    await failsWith(r.redeem('crash', CTX), 0x0200, 'webapp-error');
    await failsWith(r.redeem('redirect', CTX), 0x0200, 'webapp-error');
  });

  it('an empty or huge token is refused without calling the webapp', async () => {
    seen.length = 0;
    const r = make();
    await failsWith(r.redeem('', CTX), 0x0301, 'malformed');
    await failsWith(r.redeem('t'.repeat(70_000), CTX), 0x0301, 'malformed');
    assert.equal(seen.length, 0);
  });

  it('http:// only with allowInsecureHttp; bad url, proxyId, proxyToken or timeout refused at construction', async () => {
    assert.throws(() => make({ url: `${plainBase}/redeem` }), /https/);
    const r = make({ url: `${plainBase}/redeem`, allowInsecureHttp: true, ca: undefined });
    assert.equal((await r.redeem('good', CTX)).user, 'alice');
    assert.throws(() => make({ url: 'not a url' }), RangeError);
    assert.throws(() => make({ url: 'ftp://x/' }), RangeError);
    assert.throws(() => make({ url: 'https://u:p@x/' }), RangeError);
    assert.throws(() => make({ proxyId: '' }), RangeError);
    assert.throws(() => make({ proxyToken: 'has\r\nnewline' }), RangeError);
    assert.throws(() => make({ timeoutMs: 0 }), RangeError);
  });
});
