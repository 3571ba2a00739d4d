// JtiRegistry: single use until expiry, bounded (refuses when full of unexpired entries, counted), cleanup
// of expired entries as time passes, and a cost per claim that does not grow with the number of entries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimOnceWith, JtiRegistry } from '../../src/proxy/auth/jti-registry.js';

describe('JtiRegistry', { timeout: 60_000 }, () => {
  it('true the first time, false on reuse until the expiry, then forgotten', () => {
    const r = new JtiRegistry();
    assert.equal(r.claim('a', 10_000, 0), true);
    assert.equal(r.claim('a', 10_000, 5_000), false);
    assert.equal(r.claim('b', 10_000, 5_000), true);
    assert.equal(r.claim('a', 10_000, 9_999), false);
    assert.equal(r.size, 2);
    // At and after the expiry the entry no longer blocks, and a sweep drops it.
    assert.equal(r.claim('a', 20_000, 10_000), true);
    r.sweep(11_001);
    assert.equal(r.size, 1, 'b expired and was dropped; a lives until 20 000');
    r.sweep(21_000);
    assert.equal(r.size, 0);
    assert.deepEqual(r.stats(), { size: 0, granted: 3, reused: 2, refusedFull: 0, expired: 2 });
  });

  it('a claim whose expiry has already passed is granted but not stored', () => {
    const r = new JtiRegistry();
    assert.equal(r.claim('old', 100, 200), true);
    assert.equal(r.size, 0);
  });

  it('bounded: when full of unexpired entries, new claims are refused (and counted); room returns on expiry', () => {
    const r = new JtiRegistry({ maxEntries: 3 });
    for (const j of ['a', 'b', 'c']) assert.equal(r.claim(j, 5_000, 0), true);
    assert.equal(r.claim('d', 5_000, 1_000), false);
    assert.equal(r.claim('e', 9_000, 1_000), false);
    assert.equal(r.claim('a', 5_000, 1_000), false, 'reuse is still reuse');
    assert.deepEqual(r.stats(), { size: 3, granted: 3, reused: 1, refusedFull: 2, expired: 0 });
    assert.equal(r.claim('d', 9_000, 6_000), true, 'expired entries made room');
    assert.equal(r.size, 1);
  });

  it('a full registry with expired entries makes room instead of refusing', () => {
    const r = new JtiRegistry({ maxEntries: 3000 });
    for (let i = 0; i < 3000; i++) r.claim(`j${i}`, 1_000, 0);
    assert.equal(r.claim('x', 9_000, 500), false);
    // Later all 3000 have expired: the claim's bounded sweep (1024 entries) makes room.
    assert.equal(r.claim('y', 9_000, 2_500), true);
    assert.equal(r.size, 3000 - 1024 + 1);
    assert.equal(r.stats().refusedFull, 1);
  });

  it('entries expire bucket by bucket, whatever the order of their expiries', () => {
    const r = new JtiRegistry({ bucketMs: 1000 });
    const expiries = [9_500, 1_200, 5_000, 3_300, 7_700, 2_000, 8_100];
    for (const [i, e] of expiries.entries()) assert.equal(r.claim(`j${i}`, e, 0), true);
    for (let now = 0; now <= 11_000; now += 500) {
      r.sweep(now);
      // Never dropped before its expiry; gone at most one bucket after it.
      const live = expiries.filter((e) => e > now).length;
      const lingering = expiries.filter((e) => e <= now && now < (Math.floor(e / 1000) + 1) * 1000).length;
      assert.ok(r.size >= live && r.size <= live + lingering, `at ${now}: size ${r.size}, live ${live}`);
    }
    assert.equal(r.size, 0);
  });

  it('refuses bad options', () => {
    assert.throws(() => new JtiRegistry({ maxEntries: 0 }), RangeError);
    assert.throws(() => new JtiRegistry({ bucketMs: 0.5 }), RangeError);
  });

  it('claimOnceWith adapts a registry to SignedTokenRedeemer.claimOnce', async () => {
    const r = new JtiRegistry();
    const claimOnce = claimOnceWith(r, () => 1000);
    assert.equal(await claimOnce('x', 2000), true);
    assert.equal(await claimOnce('x', 2000), false);
  });

  it('200 000 claims spread over 300 s of expiries: per-claim cost stays flat and memory is returned', () => {
    const r = new JtiRegistry({ maxEntries: 1_000_000 });
    const N = 200_000;
    const batch = (from: number, now: number): number => {
      const start = process.hrtime.bigint();
      for (let i = from; i < from + N / 4; i++) r.claim(`jti-${i}`, now + 1000 + ((i * 7919) % 300_000), now);
      return Number(process.hrtime.bigint() - start) / (N / 4);
    };
    const first = batch(0, 0);
    batch(N / 4, 0);
    batch(N / 2, 0);
    const last = batch((3 * N) / 4, 0);
    assert.equal(r.size, N);
    // Everything expires. A claim drops a bounded share of the backlog (no long pause) ...
    assert.equal(r.claim('late', 700_000, 400_000), true);
    assert.equal(r.stats().expired, 1024);
    // ... and an explicit sweep (or a claim that finds the registry full) drops the rest.
    const sweepStart = process.hrtime.bigint();
    r.sweep(400_000);
    const sweepMs = Number(process.hrtime.bigint() - sweepStart) / 1e6;
    assert.equal(r.size, 1);
    assert.equal(r.stats().expired, N);
    // Generous bounds: the point is "no growth with size", not speed on this machine.
    assert.ok(
      last < first * 5 + 2000,
      `ns per claim: first quarter ${first.toFixed(0)}, last ${last.toFixed(0)}`,
    );
    assert.ok(sweepMs < 2000, `sweep of ${N} entries took ${sweepMs.toFixed(0)} ms`);
  });
});
