// Registration configuration (the checks naming the key, the config schema) and the real `gatehouse proxy`
// registering at start-up with a node:http server standing in for the webapp.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { type ProxyAuthConfig, proxyAuthSchema } from '../../src/config/sections/proxy-auth.js';
import {
  AuthConfigError,
  checkProxyAuthConfig,
  registrationSettings,
} from '../../src/proxy/auth/from-config.js';
import { registerWithWebapp } from '../../src/proxy/auth/registration.js';
import { startGatehouseProxy } from '../e2e/helpers/gatehouse-proxy.js';
import { config, fakeWebapp, ok, recordingLog, TOKEN } from './registration-helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('registration configuration', () => {
  const checkFails = (cfg: object, re: RegExp): void =>
    assert.throws(
      () => checkProxyAuthConfig(cfg),
      (e: Error) => e instanceof AuthConfigError && re.test(e.message),
      re.source,
    );

  it('advertiseUrl in signed mode, bad advertiseUrl or zone, http without allowInsecureHttp: errors naming the key', () => {
    const base = config('https://webapp.example/api/proxy/redeem', { allowInsecureHttp: false });
    const signed = structuredClone(base);
    signed.proxyAuth.mode = 'signed';
    signed.proxyAuth.signed.publicKeys = [
      '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
    ];
    checkFails(
      signed,
      /^proxyAuth\.webapp\.advertiseUrl is set, but registering with the webapp needs proxyAuth\.mode webapp/,
    );
    signed.proxyAuth.webapp.advertiseUrl = '';
    checkProxyAuthConfig(signed);
    checkProxyAuthConfig(base);
    const with_ = (w: Partial<ProxyAuthConfig['webapp']>) => ({
      proxyAuth: { ...base.proxyAuth, webapp: { ...base.proxyAuth.webapp, ...w } },
    });
    for (const bad of [
      '10.0.0.7:8080',
      'http://10.0.0.7',
      'http://10.0.0.7:8080/x',
      'ftp://h:1',
      'http://h:99999',
    ]) {
      checkFails(
        with_({ advertiseUrl: bad }),
        /^proxyAuth\.webapp\.advertiseUrl must be http\(s\):\/\/HOST:PORT/,
      );
    }
    checkFails(
      with_({ advertiseUrl: 'http://0.0.0.0:8080' }),
      /^proxyAuth\.webapp\.advertiseUrl: 0\.0\.0\.0 is a listen-on-all/,
    );
    checkFails(with_({ zone: 'a\nb' }), /^proxyAuth\.webapp\.zone must be/);
    checkFails(with_({ zone: 'z'.repeat(129) }), /^proxyAuth\.webapp\.zone must be/);
    checkFails(
      with_({ url: 'http://webapp.example/api/proxy/redeem' }),
      /^proxyAuth\.webapp: webapp url must be https/,
    );
    // registrationSettings alone (what registerWithWebapp uses) refuses it too, naming the key.
    assert.throws(
      () => registrationSettings(with_({ url: 'http://webapp.example/x' }).proxyAuth),
      /^AuthConfigError: proxyAuth\.webapp\.url: webapp url must be https/,
    );
    assert.throws(
      () => registerWithWebapp(with_({ url: 'http://webapp.example/x' }), recordingLog()),
      AuthConfigError,
    );
    const s = registrationSettings(
      with_({ url: 'https://webapp.example:8443/base/api/proxy/redeem?x=1' }).proxyAuth,
    );
    assert.equal(s?.url.href, 'https://webapp.example:8443/api/proxy/register');
    assert.equal(registrationSettings(with_({ advertiseUrl: 'https://[::1]:8080' }).proxyAuth)?.zone, 'eu');
  });

  it('the config schema takes the keys (empty defaults) and refuses bad values', () => {
    const validate = new Ajv({ strict: true }).compile({
      type: 'object',
      properties: { proxyAuth: proxyAuthSchema },
    });
    const w = (webapp: object) => ({ proxyAuth: { webapp } });
    assert.ok(validate(w({ advertiseUrl: '', zone: '' })));
    assert.ok(validate(w({ advertiseUrl: 'https://proxy-1.internal:8080', zone: 'eu-west' })));
    assert.ok(validate(w({ advertiseUrl: 'http://[fd00::7]:8080' })));
    for (const bad of [
      { advertiseUrl: 'proxy:8080' },
      { advertiseUrl: 'http://p:1/' },
      { zone: 'x\ty' },
      { zone: 'z'.repeat(129) },
    ]) {
      assert.equal(validate(w(bad)), false, JSON.stringify(bad));
    }
  });
});

describe('gatehouse proxy registers at start-up', { timeout: 60_000 }, () => {
  it('POSTs its registration once it listens, with the configured address and zone', async () => {
    const webapp = await fakeWebapp(() => ok('p-real', 'lab'));
    cleanups.push(webapp.close);
    const proxy = await startGatehouseProxy({
      managers: 1,
      env: {
        GATEHOUSE_PROXY_AUTH__MODE: 'webapp',
        GATEHOUSE_PROXY_AUTH__WEBAPP__URL: webapp.url,
        GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_ID: 'proxy-real',
        GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_TOKEN: TOKEN,
        GATEHOUSE_PROXY_AUTH__WEBAPP__ALLOW_INSECURE_HTTP: 'true',
        GATEHOUSE_PROXY_AUTH__WEBAPP__ADVERTISE_URL: 'http://127.0.0.1:18080',
        GATEHOUSE_PROXY_AUTH__WEBAPP__ZONE: 'lab',
      },
    });
    cleanups.push(() => proxy.stop());
    await proxy.waitForLog(/^registered with the webapp as p-real in zone lab$/);
    assert.equal(webapp.seen.length, 1);
    assert.equal(webapp.seen[0]?.headers.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(
      { ...webapp.seen[0]?.body, version: 'v' },
      {
        proxy: { id: 'proxy-real' },
        kind: 'guac',
        address: 'http://127.0.0.1:18080',
        zone: 'lab',
        version: 'v',
      },
    );
    await proxy.stop();
  });

  it('refuses to start with advertiseUrl in signed mode, naming the key', async () => {
    await assert.rejects(
      startGatehouseProxy({
        managers: 1,
        env: { GATEHOUSE_PROXY_AUTH__WEBAPP__ADVERTISE_URL: 'http://127.0.0.1:18080' },
      }),
      /proxyAuth\.webapp\.advertiseUrl is set, but registering with the webapp needs proxyAuth\.mode webapp/,
    );
  });
});
