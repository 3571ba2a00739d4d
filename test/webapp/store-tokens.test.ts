// The SQL store on SQLite and on PostgreSQL: one-time tokens (single use, expiry, proxy binding, replay
// window, concurrent redeems), audit sessions, login sessions, and migrations.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { MIGRATIONS } from '../../src/webapp/db/migrations.js';
import { SecretBox } from '../../src/webapp/security/secret-box.js';
import { openStore, type SqlStore } from '../../src/webapp/store/sql-store.js';
import type { AccessToken } from '../../src/webapp/store/types.js';
import { run } from '../e2e/helpers/processes.js';
import { forEachDatabase } from '../helpers/postgres.js';

const T = { timeout: 20_000 };

forEachDatabase('SqlStore tokens and sessions', (db) => {
  const box = new SecretBox(randomBytes(32));
  let store: SqlStore;
  let n = 0;
  const uniq = (p: string): string => `${p}-${++n}`;
  let userId = '';
  let serverId = '';
  let proxyId = '';
  let otherProxyId = '';
  const NOW = 1_800_000_000_000;

  before(async () => {
    store = await openStore({ database: db.database, dataDir: db.dataDir, secretBox: box });
    const zone = await store.createZone({ name: 'default' });
    userId = (await store.createUser({ username: 'alice', role: 'user', passwordHash: 'h' })).id;
    serverId = (
      await store.createServer({ name: 'desk', protocol: 'vnc', host: 'h', port: 5900, zoneId: zone.id })
    ).id;
    proxyId = (await store.createProxy({ name: 'p1', zoneId: zone.id, kind: 'guac', secretHash: 'x' })).id;
    otherProxyId = (await store.createProxy({ name: 'p2', zoneId: zone.id, kind: 'guac', secretHash: 'x' }))
      .id;
  });
  after(() => store?.close());

  async function token(over: Partial<AccessToken> = {}): Promise<string> {
    const hash = createHash('sha256').update(uniq('token')).digest('hex');
    await store.createToken({
      hash,
      kind: 'tunnel',
      userId,
      serverId,
      proxyId,
      webSessionId: null,
      createdAt: NOW,
      expiresAt: NOW + 60_000,
      ...over,
    });
    return hash;
  }

  it(
    'redeems once, creating the audit session; a replay by the same proxy within the window gets it again',
    T,
    async () => {
      const hash = await token();
      assert.deepEqual(await store.getToken(hash), {
        hash,
        kind: 'tunnel',
        userId,
        serverId,
        proxyId,
        webSessionId: null,
        createdAt: NOW,
        expiresAt: NOW + 60_000,
        redeemedAt: null,
        sessionId: null,
      });
      const first = await store.redeemToken(hash, proxyId, NOW + 1000, 5000, '192.0.2.7');
      assert.ok(first.ok);
      assert.equal(first.replay, false);
      assert.equal(first.token.redeemedAt, NOW + 1000);
      assert.equal(first.token.sessionId, first.sessionId);
      assert.deepEqual(await store.getSession(first.sessionId), {
        id: first.sessionId,
        userId,
        serverId,
        proxyId,
        startedAt: NOW + 1000,
        endedAt: null,
        endReason: null,
        bytesUp: 0,
        bytesDown: 0,
        clientAddress: '192.0.2.7',
      });
      const again = await store.redeemToken(hash, proxyId, NOW + 6000, 5000, null);
      assert.ok(again.ok);
      assert.deepEqual([again.replay, again.sessionId], [true, first.sessionId]);
      assert.deepEqual(await store.redeemToken(hash, proxyId, NOW + 6001, 5000, null), {
        ok: false,
        reason: 'used',
      });
      assert.deepEqual(await store.redeemToken(hash, otherProxyId, NOW + 2000, 5000, null), {
        ok: false,
        reason: 'wrong-proxy',
      });
    },
  );

  it('refuses unknown, expired and wrong-proxy tokens; a refused try does not use the token', T, async () => {
    assert.deepEqual(await store.redeemToken('0'.repeat(64), proxyId, NOW, 5000, null), {
      ok: false,
      reason: 'unknown',
    });
    const hash = await token({ expiresAt: NOW + 10_000 });
    assert.deepEqual(await store.redeemToken(hash, otherProxyId, NOW, 5000, null), {
      ok: false,
      reason: 'wrong-proxy',
    });
    assert.deepEqual(await store.redeemToken(hash, proxyId, NOW + 10_000, 5000, null), {
      ok: false,
      reason: 'expired',
    });
    const ok = await store.redeemToken(hash, proxyId, NOW + 9_999, 5000, null);
    assert.equal(ok.ok && !ok.replay, true);
    // Replay is measured from the first redeem, even past the token's expiry.
    const replay = await store.redeemToken(hash, proxyId, NOW + 12_000, 5000, null);
    assert.equal(replay.ok && replay.replay, true);
  });

  it('lets exactly one of 20 concurrent redeems of one token be the first', T, async () => {
    const hash = await token();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => store.redeemToken(hash, proxyId, NOW + 500, 5000, null)),
    );
    const firsts = outcomes.filter((o) => o.ok && !o.replay);
    assert.equal(firsts.length, 1);
    const sessionIds = new Set(outcomes.map((o) => (o.ok ? o.sessionId : o.reason)));
    assert.equal(sessionIds.size, 1, 'the others are replays of the same session');
    const rows = await store.db.all<{ id: string }>('SELECT id FROM sessions WHERE id = ?', [
      [...sessionIds][0] ?? '',
    ]);
    assert.equal(rows.length, 1);

    // Without a replay window the others are refused.
    const hash2 = await token();
    const strict = await Promise.all(
      Array.from({ length: 20 }, () => store.redeemToken(hash2, proxyId, NOW + 500, -1, null)),
    );
    assert.equal(strict.filter((o) => o.ok).length, 1);
    assert.equal(strict.filter((o) => !o.ok && o.reason === 'used').length, 19);
  });

  it('deletes expired tokens, and tokens of a deleted login session', T, async () => {
    const old = await token({ expiresAt: NOW - 1 });
    const fresh = await token({ expiresAt: NOW + 60_000 });
    assert.ok((await store.deleteExpiredTokens(NOW)) >= 1);
    assert.equal(await store.getToken(old), null);
    assert.notEqual(await store.getToken(fresh), null);

    const ws = {
      id: uniq('ws'),
      userId,
      csrfToken: 'c',
      createdAt: NOW,
      expiresAt: NOW + 1000,
      lastSeenAt: NOW,
    };
    await store.createWebSession(ws);
    const bound = await token({ webSessionId: ws.id });
    await store.deleteWebSession(ws.id);
    assert.equal(await store.getToken(bound), null, 'logging out removes the tokens issued to the login');
    await assert.rejects(
      token({ webSessionId: 'ghost' }),
      (e: Error & { field?: string }) => e.field === 'webSessionId',
    );
    await assert.rejects(
      token({ serverId: 'ghost' }),
      (e: Error & { field?: string }) => e.field === 'serverId',
    );
    await assert.rejects(
      store.createToken({ ...((await store.getToken(fresh)) as AccessToken) }),
      (e: Error & { field?: string }) => e.field === 'hash',
    );
  });

  it('ends sessions once, lists them newest first, and ends every open one at start-up', T, async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const o = await store.redeemToken(
        await token({ expiresAt: NOW + 200_000 }),
        proxyId,
        NOW + 100_000 + i,
        0,
        null,
      );
      assert.ok(o.ok);
      ids.push(o.sessionId);
    }
    const [a, b, c] = ids as [string, string, string];
    assert.equal(await store.endSession(a, NOW + 200_000, 'closed', 10, 20), true);
    assert.equal(await store.endSession(a, NOW + 300_000, 'again', 1, 1), false);
    assert.equal(await store.endSession('ghost', NOW, 'x', 0, 0), false);
    const ended = await store.getSession(a);
    assert.deepEqual(
      [ended?.endedAt, ended?.endReason, ended?.bytesUp, ended?.bytesDown],
      [NOW + 200_000, 'closed', 10, 20],
    );

    const active = await store.listSessions({ activeOnly: true, limit: 100 });
    assert.deepEqual(
      active.filter((s) => ids.includes(s.id)).map((s) => s.id),
      [c, b],
    );
    assert.equal((await store.listSessions({ activeOnly: false, limit: 2 })).length, 2);
    assert.equal((await store.listSessions({ activeOnly: false, limit: 2 }))[0]?.id, c);
    assert.deepEqual(await store.listSessions({ activeOnly: false, limit: -5 }), []);
    assert.ok((await store.endOpenSessions(NOW + 400_000, 'webapp restarted')) >= 2);
    assert.deepEqual(await store.listSessions({ activeOnly: true, limit: 100 }), []);
    assert.equal((await store.getSession(b))?.endReason, 'webapp restarted');
    assert.equal((await store.getSession(a))?.endReason, 'closed');
  });

  it('keeps audit sessions when their user, server and proxy are deleted', T, async () => {
    const zone = await store.createZone({ name: uniq('zone') });
    const u = await store.createUser({ username: uniq('temp'), role: 'user', passwordHash: 'h' });
    const s = await store.createServer({
      name: uniq('s'),
      protocol: 'ssh',
      host: 'h',
      port: 22,
      zoneId: zone.id,
    });
    const p = await store.createProxy({ name: uniq('p'), zoneId: zone.id, kind: 'guac', secretHash: 'x' });
    const hash = await token({ userId: u.id, serverId: s.id, proxyId: p.id });
    const o = await store.redeemToken(hash, p.id, NOW, 0, null);
    assert.ok(o.ok);
    assert.equal(await store.deleteUser(u.id), true);
    assert.equal(await store.deleteServer(s.id), true);
    assert.equal(await store.deleteProxy(p.id), true);
    assert.equal(await store.getToken(hash), null);
    const rec = await store.getSession(o.sessionId);
    assert.deepEqual([rec?.userId, rec?.serverId, rec?.proxyId], [u.id, s.id, p.id]);
  });

  it('keeps login sessions until they expire, are deleted, or their user goes', T, async () => {
    const ws = {
      id: uniq('ws'),
      userId,
      csrfToken: 'csrf',
      createdAt: NOW,
      expiresAt: NOW + 1000,
      lastSeenAt: NOW,
    };
    await store.createWebSession(ws);
    assert.deepEqual(await store.getWebSession(ws.id), ws);
    await assert.rejects(store.createWebSession(ws), (e: Error & { field?: string }) => e.field === 'id');
    await store.touchWebSession(ws.id, NOW + 500, NOW + 1500);
    assert.deepEqual(await store.getWebSession(ws.id), {
      ...ws,
      lastSeenAt: NOW + 500,
      expiresAt: NOW + 1500,
    });
    assert.equal(await store.deleteExpiredWebSessions(NOW + 1499), 0);
    assert.equal(await store.deleteExpiredWebSessions(NOW + 1500), 1);
    assert.equal(await store.getWebSession(ws.id), null);

    const u = await store.createUser({ username: uniq('bob'), role: 'user', passwordHash: 'h' });
    const w1 = { ...ws, id: uniq('ws'), userId: u.id };
    const w2 = { ...ws, id: uniq('ws'), userId: u.id };
    await store.createWebSession(w1);
    await store.createWebSession(w2);
    await store.deleteWebSessionsOfUser(u.id);
    assert.equal(await store.getWebSession(w1.id), null);
    await store.createWebSession(w2);
    await store.deleteUser(u.id);
    assert.equal(await store.getWebSession(w2.id), null, 'deleting a user ends its logins');
    await store.deleteWebSession('ghost');
  });

  it(
    'applies migrations once: reopening, and processes starting together on a fresh database',
    T,
    async () => {
      const again = await openStore({ database: db.database, dataDir: db.dataDir, secretBox: box });
      try {
        assert.ok((await again.getZoneByName('default')) !== null);
      } finally {
        await again.close();
      }
      // Three webapps starting at the same moment (separate processes, as in a real deployment).
      const fresh = await db.fresh();
      const opened = await Promise.all([1, 2, 3].map(() => openInChild(fresh, db.dataDir)));
      assert.deepEqual(opened, ['opened', 'opened', 'opened']);
      const s = await openStore({ database: fresh, dataDir: db.dataDir, secretBox: box });
      try {
        const rows = await s.db.all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
        assert.deepEqual(
          rows.map((r) => r.id),
          MIGRATIONS.map((m) => m.id),
        );
        // A migration this version does not know: a newer Gatehouse made the database.
        await s.db.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', ['9999-future', 1]);
      } finally {
        await s.close();
      }
      await assert.rejects(
        openStore({ database: fresh, dataDir: db.dataDir, secretBox: box }),
        /cannot prepare the (SQLite|PostgreSQL) database .*9999-future.*newer version/,
      );
    },
  );
});

/** Opens (and closes) the store in a child node process; resolves with its output ("opened" or the error). */
async function openInChild(database: string, dataDir: string): Promise<string> {
  const storeModule = new URL('../../src/webapp/store/sql-store.js', import.meta.url).href;
  const boxModule = new URL('../../src/webapp/security/secret-box.js', import.meta.url).href;
  const script = `
    const { openStore } = await import(${JSON.stringify(storeModule)});
    const { SecretBox } = await import(${JSON.stringify(boxModule)});
    const [database, dataDir] = process.argv.slice(1);
    const store = await openStore({ database, dataDir, secretBox: new SecretBox(Buffer.alloc(32)) });
    await store.close();
    process.stdout.write('opened');`;
  const r = await run(process.execPath, ['--input-type=module', '-e', script, database, dataDir], {
    timeoutMs: 15_000,
    check: false,
  });
  return r.code === 0 ? r.stdout.toString() : `exit ${r.code}: ${r.stderr}`;
}
