// Proxy selection against real servers: a real `gatehouse proxy` (healthy), a closed port (down) and a TCP
// server that accepts and never answers (hanging). Every selection returns the healthy one within about one
// health-check deadline; all down gives null with each reason; a draining proxy (503) is skipped; two
// healthy proxies share the picks about evenly; the concurrency bound holds and unneeded checks are not made.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProxyHealthChecker } from '../../src/webapp/proxies/health.js';
import { type HealthCheck, selectProxy, shuffle } from '../../src/webapp/proxies/select.js';
import type { ConnectionProxy } from '../../src/webapp/store/types.js';
import { type ProxyProcess, startGatehouseProxy } from '../e2e/helpers/gatehouse-proxy.js';
import { rng } from '../helpers/rng.js';
import {
  answer,
  type CountingServer,
  closedPortUrl,
  countingServer,
  hangingServer,
} from './health-servers.js';

const TIMEOUT_MS = 500;
/** Scheduling slack on a loaded 2-core machine. */
const SLACK_MS = 400;

const proxy = (id: string, address: string): ConnectionProxy => ({
  id,
  name: id,
  zoneId: 'z',
  kind: 'guac',
  address,
  enabled: true,
  lastHealth: null,
  registeredAt: null,
  createdAt: 0,
});

describe('selectProxy with real proxies', { timeout: 120_000 }, () => {
  let real: ProxyProcess;
  let hanging: CountingServer;
  let downUrl: string;
  const servers: CountingServer[] = [];
  const checkers: ProxyHealthChecker[] = [];
  const newChecker = (cacheMs = 0, downMs = 0): ProxyHealthChecker => {
    const c = new ProxyHealthChecker({ timeoutMs: TIMEOUT_MS, cacheMs, downMs });
    checkers.push(c);
    return c;
  };

  before(async () => {
    real = await startGatehouseProxy({ managers: 1 });
    hanging = await hangingServer();
    servers.push(hanging);
    downUrl = await closedPortUrl();
  });
  after(async () => {
    for (const c of checkers) c.close();
    await Promise.all(servers.map((s) => s.close()));
    await real?.stop();
  });

  it('healthy + down + hanging: every selection picks the healthy one within the deadline', async () => {
    const candidates = [proxy('healthy', real.url), proxy('down', downUrl), proxy('hanging', hanging.url)];
    const random = rng(7);
    let waitedForHanging = 0;
    let worst = 0;
    // Fresh checkers: no cache, every check is a real request.
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      const picked = await selectProxy(candidates, newChecker(), { random });
      const took = performance.now() - t0;
      worst = Math.max(worst, took);
      assert.equal(picked.proxy?.id, 'healthy', JSON.stringify(picked.tried));
      assert.ok(took < TIMEOUT_MS + SLACK_MS, `selection ${i} took ${took.toFixed(0)} ms`);
      const before = picked.tried.slice(0, -1);
      for (const t of before) {
        assert.equal(t.ok, false);
        assert.equal(t.detail, t.id === 'down' ? 'connection refused' : `timeout after ${TIMEOUT_MS} ms`);
      }
      if (before.some((t) => t.id === 'hanging')) waitedForHanging++;
      assert.deepEqual(picked.tried.at(-1), { id: 'healthy', ok: true, detail: 'HTTP 200' });
    }
    assert.ok(waitedForHanging > 0, 'the random order put the hanging proxy first at least once');
    // One shared checker (down proxies cached for 10 s): after the first selection, selections are quick.
    const shared = newChecker(2000, 10_000);
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      const picked = await selectProxy(candidates, shared, { random });
      assert.equal(picked.proxy?.id, 'healthy');
      const took = performance.now() - t0;
      assert.ok(
        took < (i === 0 ? TIMEOUT_MS + SLACK_MS : 100),
        `shared selection ${i} took ${took.toFixed(0)} ms`,
      );
    }
    console.log(`# worst uncached selection ${worst.toFixed(0)} ms (deadline ${TIMEOUT_MS} ms)`);
  });

  it('all down: null with every reason, within one deadline', async () => {
    const t0 = performance.now();
    const picked = await selectProxy([proxy('down', downUrl), proxy('hanging', hanging.url)], newChecker());
    const took = performance.now() - t0;
    assert.equal(picked.proxy, null);
    assert.deepEqual(
      [...picked.tried].sort((a, b) => a.id.localeCompare(b.id)),
      [
        { id: 'down', ok: false, detail: 'connection refused' },
        { id: 'hanging', ok: false, detail: `timeout after ${TIMEOUT_MS} ms` },
      ],
    );
    assert.ok(took < TIMEOUT_MS + SLACK_MS, `took ${took.toFixed(0)} ms`);
    assert.deepEqual(await selectProxy([], newChecker()), { proxy: null, tried: [] });
  });

  it('a draining proxy (503) is skipped', async () => {
    const draining = await countingServer(answer(503));
    servers.push(draining);
    const random = rng(11);
    let sawDraining = 0;
    for (let i = 0; i < 20; i++) {
      const picked = await selectProxy(
        [proxy('draining', draining.url), proxy('healthy', real.url)],
        newChecker(),
        { random },
      );
      assert.equal(picked.proxy?.id, 'healthy');
      const first = picked.tried[0]!;
      if (first.id === 'draining') {
        sawDraining++;
        assert.deepEqual(first, { id: 'draining', ok: false, detail: 'HTTP 503 (draining)' });
      }
    }
    assert.ok(sawDraining > 0);
  });

  it('two healthy proxies share 400 picks about evenly (seeded random); checks cached meanwhile', async () => {
    const a = await countingServer(answer(200));
    const b = await countingServer(answer(200));
    servers.push(a, b);
    const shared = newChecker(60_000, 60_000);
    const counts = { a: 0, b: 0 };
    const random = rng(2024);
    for (let i = 0; i < 400; i++) {
      const picked = await selectProxy([proxy('a', a.url), proxy('b', b.url)], shared, { random });
      assert.ok(picked.proxy);
      counts[picked.proxy.id as 'a' | 'b']++;
    }
    console.log(`# spread over 400 picks: a ${counts.a}, b ${counts.b}`);
    // Binomial(400, 0.5): standard deviation 10; allow 4 of them.
    assert.ok(Math.abs(counts.a - 200) <= 40, JSON.stringify(counts));
    // The first selection checked both at once; everything after came from the cache.
    assert.deepEqual([a.hits, b.hits], [1, 1]);
  });
});

describe('selectProxy mechanics', { timeout: 20_000 }, () => {
  it('shuffle is Fisher–Yates: every order of 3 about equally often; a random() of 1 stays in range', () => {
    const random = rng(1);
    const seen = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const key = shuffle(['a', 'b', 'c'], random).join('');
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    assert.equal(seen.size, 6);
    for (const n of seen.values()) assert.ok(n > 850 && n < 1150, JSON.stringify([...seen]));
    assert.deepEqual(shuffle([1, 2, 3], () => 1).sort(), [1, 2, 3]);
    assert.deepEqual(shuffle([], Math.random), []);
  });

  it('at most `concurrency` checks at once; once a proxy is picked no further check starts', async () => {
    let running = 0;
    let peak = 0;
    let started = 0;
    const checker: HealthCheck = {
      async check(p) {
        started++;
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return { ok: p.id === 'p5', detail: p.id === 'p5' ? 'HTTP 200' : 'HTTP 503' };
      },
    };
    const candidates = Array.from({ length: 40 }, (_, i) => proxy(`p${i}`, `http://127.0.0.1:${i + 1}`));
    // Identity order (random() = 0.999... keeps each element in place in Fisher–Yates).
    const picked = await selectProxy(candidates, checker, { random: () => 0.999_999, concurrency: 4 });
    assert.equal(picked.proxy?.id, 'p5');
    assert.deepEqual(
      picked.tried.map((t) => t.id),
      ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'],
    );
    assert.equal(peak, 4);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(started <= 6 + 4, `started ${started} checks`);
  });

  it('a checker that throws counts as unhealthy with the reason', async () => {
    const checker: HealthCheck = {
      check: (p) =>
        p.id === 'x' ? Promise.reject(new Error('boom')) : Promise.resolve({ ok: true, detail: 'HTTP 200' }),
    };
    const picked = await selectProxy([proxy('x', 'http://h:1'), proxy('y', 'http://h:2')], checker, {
      random: () => 0.999,
    });
    assert.equal(picked.proxy?.id, 'y');
    assert.deepEqual(picked.tried[0], { id: 'x', ok: false, detail: 'check failed: boom' });
  });
});
