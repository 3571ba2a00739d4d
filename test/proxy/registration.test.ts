// The proxy's registration with the webapp, against a node:http server started here that records requests
// (standing in for the webapp, test/proxy/registration-helpers.ts): the request (path, bearer credential, JSON
// body fitting the published schema), each kind of answer, retries with backoff and their end at stop(),
// renewals, and https with a private CA.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { checkProxyAuthConfig } from '../../src/proxy/auth/from-config.js';
import { registerWithWebapp } from '../../src/proxy/auth/registration.js';
import { registerRequestSchema } from '../../src/proxy/auth/schemas.js';
import { freePort, LOOPBACK } from '../e2e/helpers/free-port.js';
import { pollUntil, sleep } from '../e2e/helpers/processes.js';
import { fromRoot } from '../helpers/paths.js';
import { writeTestCertificate } from '../helpers/test-cert.js';
import { config, FAST, fakeWebapp, ok, type Reply, recordingLog, TOKEN } from './registration-helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('registerWithWebapp', { timeout: 30_000 }, () => {
  it('POSTs the documented request with the bearer credential, and logs where it was registered', async () => {
    const webapp = await fakeWebapp(() => ok());
    cleanups.push(webapp.close);
    const log = recordingLog();
    const reg = registerWithWebapp(config(webapp.url), log, { version: '1.2.3', delays: FAST });
    cleanups.push(reg.stop);
    assert.equal(reg.enabled, true);
    await reg.registered;
    reg.stop();
    assert.equal(webapp.seen.length, 1);
    const [s] = webapp.seen;
    assert.equal(s?.method, 'POST');
    assert.equal(s?.url, '/api/proxy/register');
    assert.equal(s?.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(s?.headers['content-type'], 'application/json');
    assert.equal(s?.headers.accept, 'application/json');
    assert.deepEqual(s?.body, {
      proxy: { id: 'proxy-eu-1' },
      kind: 'guac',
      address: 'http://10.0.0.7:8080',
      zone: 'eu',
      version: '1.2.3',
    });
    const validate = new Ajv({ strict: true }).compile(registerRequestSchema);
    assert.ok(validate(s?.body), JSON.stringify(validate.errors));
    const info = log.lines.filter((l) => l.level === 'info').map((l) => l.msg);
    assert.deepEqual(info, ['registered with the webapp as p-7 in zone eu']);
    assert.ok(!JSON.stringify(log.lines).includes(TOKEN), 'the credential is never logged');
  });

  it('no zone configured: zone null; the version defaults to the package version; advertiseUrl empty: off', async () => {
    const webapp = await fakeWebapp(() => ok('p-8', 'default'));
    cleanups.push(webapp.close);
    const reg = registerWithWebapp(config(webapp.url, { zone: '' }), recordingLog(), { delays: FAST });
    cleanups.push(reg.stop);
    await reg.registered;
    reg.stop();
    const version = (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string })
      .version;
    assert.equal(webapp.seen[0]?.body.zone, null);
    assert.equal(webapp.seen[0]?.body.version, version);
    const off = registerWithWebapp(config(webapp.url, { advertiseUrl: '' }), recordingLog());
    assert.equal(off.enabled, false);
    await off.registered;
    off.stop();
    await sleep(50);
    assert.equal(webapp.seen.length, 1);
  });

  it('three 503s, then 200: retried with a growing, jittered backoff; the warnings say why', async () => {
    const webapp = await fakeWebapp((n) => (n < 3 ? { status: 503, body: { error: 'starting' } } : ok()));
    cleanups.push(webapp.close);
    const log = recordingLog();
    const t0 = performance.now();
    const reg = registerWithWebapp(config(webapp.url), log, { delays: FAST, random: () => 0.5 });
    cleanups.push(reg.stop);
    await reg.registered;
    reg.stop();
    assert.equal(webapp.seen.length, 4);
    const gaps = webapp.seen.slice(1).map((s, i) => s.at - webapp.seen[i]!.at);
    // Delays 40, 80, 160 ms times 0.75 (random 0.5 => 3/4 of the backoff): 30, 60, 120 ms.
    for (const [i, want] of [30, 60, 120].entries()) {
      assert.ok(gaps[i]! >= want - 5 && gaps[i]! < want + 150, `gap ${i}: ${gaps[i]} ms, want ~${want}`);
    }
    assert.ok(performance.now() - t0 < 2000);
    const warn = log.lines.filter((l) => l.level !== 'info' && l.level !== 'debug');
    assert.equal(warn[0]?.level, 'warn');
    assert.match(
      warn[0]!.msg,
      /^cannot register with the webapp: the webapp answered HTTP 503 starting; retrying in 30 ms$/,
    );
    // The same failure again is not repeated at warn level (no log floods).
    assert.equal(warn.length, 1);
    assert.equal(log.lines.filter((l) => l.level === 'debug').length, 2);
  });

  it('stop() ends the retries (and aborts a request in flight); registered rejects', async () => {
    const webapp = await fakeWebapp(() => ({ status: 502 }));
    cleanups.push(webapp.close);
    const reg = registerWithWebapp(config(webapp.url), recordingLog(), { delays: FAST });
    cleanups.push(reg.stop);
    await pollUntil('two attempts', () => (webapp.seen.length >= 2 ? true : undefined), 5000, 5);
    reg.stop();
    await assert.rejects(reg.registered, /stopped/);
    await sleep(50);
    const n = webapp.seen.length;
    await sleep(600);
    assert.equal(webapp.seen.length, n);
    reg.stop();

    // A request the webapp sits on is aborted by stop(): the connection closes at once, not at timeoutMs.
    const silent = await fakeWebapp(() => null);
    cleanups.push(silent.close);
    const hung = registerWithWebapp(config(silent.url, { timeoutMs: 10_000 }), recordingLog(), {
      delays: FAST,
    });
    cleanups.push(hung.stop);
    await pollUntil('the request arrived', () => (silent.seen.length === 1 ? true : undefined), 5000, 5);
    const t0 = performance.now();
    hung.stop();
    await pollUntil(
      'the connection closed',
      () => (silent.openConnections() === 0 ? true : undefined),
      2000,
      5,
    );
    assert.ok(performance.now() - t0 < 1000);
  });

  it('webapp down (connection refused), then up on that port: registered once it answers', async () => {
    const port = await freePort();
    const url = `http://${LOOPBACK}:${port}/api/proxy/redeem`;
    const log = recordingLog();
    const reg = registerWithWebapp(config(url), log, { delays: FAST });
    cleanups.push(reg.stop);
    await pollUntil(
      'a refused attempt logged',
      () => log.lines.find((l) => /ECONNREFUSED/.test(l.msg)),
      5000,
      5,
    );
    const webapp = await fakeWebapp(() => ok(), { port });
    cleanups.push(webapp.close);
    await reg.registered;
    reg.stop();
    assert.equal(webapp.seen.length, 1);
    assert.equal(log.lines.at(-1)?.msg, 'registered with the webapp as p-7 in zone eu');
  });

  it('401/403 (credential), 409 (zone mismatch), 404 and bad answers: errors naming the cause, slow retries', async () => {
    const replies: Reply[] = [
      { status: 401, body: { error: 'proxy-unauthorized', message: 'unknown\nproxy' } },
      { status: 403, body: {} },
      { status: 409, body: { error: 'zone-mismatch', message: 'proxy-eu-1 is in zone us' } },
      { status: 404, body: '<h1>Not Found</h1>', contentType: 'text/html' },
      { status: 200, body: { id: 'p-7' } },
      { status: 200, body: 'not json' },
      { status: 200, body: { id: 'p-7', zone: 'eu' }, contentType: 'text/plain' },
      ok(),
    ];
    const webapp = await fakeWebapp((n) => replies[n] ?? ok());
    cleanups.push(webapp.close);
    const log = recordingLog();
    const reg = registerWithWebapp(config(webapp.url), log, { delays: FAST, random: () => 0.5 });
    cleanups.push(reg.stop);
    await reg.registered;
    reg.stop();
    assert.equal(webapp.seen.length, replies.length);
    // Refusals are retried after refusedRetryMs (100 ms, jitter +-10%), not the short backoff.
    for (let i = 1; i < webapp.seen.length; i++) {
      const gap = webapp.seen[i]!.at - webapp.seen[i - 1]!.at;
      assert.ok(gap >= 95, `gap ${i}: ${gap} ms`);
    }
    const errors = log.lines.filter((l) => l.level === 'error').map((l) => l.msg);
    const expected = [
      /HTTP 401 proxy-unauthorized: unknown proxy\); check proxyAuth\.webapp\.proxyId and proxyToken/,
      /HTTP 403\); check proxyAuth\.webapp\.proxyId and proxyToken/,
      /refused the registration as conflicting .* \(HTTP 409 zone-mismatch: proxy-eu-1 is in zone us\); this proxy states zone "eu"/,
      /HTTP 404 to the registration at http:\/\/127\.0\.0\.1:\d+\/api\/proxy\/register \(check proxyAuth\.webapp\.url\)/,
      /answer does not fit: \(root\) must have required property 'zone'/,
      /200 with invalid JSON/,
      /200 without a JSON content type/,
    ];
    assert.equal(errors.length, expected.length, errors.join('\n'));
    for (const [i, re] of expected.entries()) assert.match(errors[i]!, re);
    assert.ok(errors.every((m) => m.endsWith('retrying in 100 ms')));
  });

  it('renews every refreshMs; an unchanged answer is logged at debug, a changed one at info', async () => {
    const webapp = await fakeWebapp((n) => (n < 2 ? ok() : ok('p-7', 'us')));
    cleanups.push(webapp.close);
    const log = recordingLog();
    const reg = registerWithWebapp(config(webapp.url, { zone: '' }), log, {
      delays: { ...FAST, refreshMs: 60 },
    });
    cleanups.push(reg.stop);
    await pollUntil('three registrations logged', () => (log.lines.length >= 3 ? true : undefined), 5000, 5);
    reg.stop();
    const msgs = log.lines.slice(0, 3).map((l) => `${l.level} ${l.msg}`);
    assert.deepEqual(msgs, [
      'info registered with the webapp as p-7 in zone eu',
      'debug registration with the webapp renewed (p-7 in zone eu)',
      'info registered with the webapp as p-7 in zone us',
    ]);
  });

  it('https with proxyAuth.webapp.caFile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-register-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { cert, key } = writeTestCertificate(dir, 'webapp');
    const tls = { cert, key };
    const webapp = await fakeWebapp(() => ok(), { tls });
    cleanups.push(webapp.close);
    const cfg = config(webapp.url, { allowInsecureHttp: false, caFile: join(dir, 'cert.pem') });
    checkProxyAuthConfig(cfg);
    const reg = registerWithWebapp(cfg, recordingLog(), { delays: FAST });
    cleanups.push(reg.stop);
    await reg.registered;
    reg.stop();
    // Without the CA the certificate is not trusted: a warning, retries, never registered.
    const log = recordingLog();
    const untrusted = registerWithWebapp(config(webapp.url, { allowInsecureHttp: false }), log, {
      delays: FAST,
    });
    cleanups.push(untrusted.stop);
    await pollUntil('a TLS failure logged', () => log.lines.find((l) => l.level === 'warn'), 5000, 5);
    untrusted.stop();
    assert.match(log.lines[0]!.msg, /self[- ]signed|SELF_SIGNED/i);
    assert.equal(webapp.seen.length, 1);
  });
});
