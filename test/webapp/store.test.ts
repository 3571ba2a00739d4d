// The SQL store on SQLite and on PostgreSQL: entities, unique clashes and dangling references, grants,
// credentials at rest. Tokens, sessions and migrations are in store-tokens.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { SecretBox } from '../../src/webapp/security/secret-box.js';
import { openStore, type SqlStore } from '../../src/webapp/store/sql-store.js';
import { StoreConflictError } from '../../src/webapp/store/types.js';
import { forEachDatabase } from '../helpers/postgres.js';

const T = { timeout: 20_000 };

/** Rejects with StoreConflictError on `field`. */
async function conflict(p: Promise<unknown>, field: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof StoreConflictError, `expected StoreConflictError, got ${String(err)}`);
    assert.equal(err.field, field);
    if (message) assert.match(err.message, message);
    return true;
  });
}

forEachDatabase('SqlStore entities', (db) => {
  let store: SqlStore;
  let n = 0;
  const uniq = (p: string): string => `${p}-${++n}`;
  const hash = 'scrypt$dummy';

  before(async () => {
    store = await openStore({
      database: db.database,
      dataDir: db.dataDir,
      secretBox: new SecretBox(randomBytes(32)),
    });
  });
  after(() => store?.close());

  it('has the dialect of its database', T, () => {
    assert.equal(store.dialect, db.dialect);
  });

  it('creates, reads, updates and deletes users', T, async () => {
    const admins = await store.countAdmins();
    const u = await store.createUser({ username: uniq('alice'), role: 'admin', passwordHash: hash });
    assert.equal(u.displayName, u.username);
    assert.equal(u.disabled, false);
    assert.deepEqual(await store.getUser(u.id), u);
    const withHash = await store.getUserByUsername(u.username);
    assert.equal(withHash?.passwordHash, hash);
    assert.equal(await store.countAdmins(), admins + 1);
    assert.ok((await store.listUsers()).some((x) => x.id === u.id));
    assert.equal('passwordHash' in ((await store.listUsers())[0] ?? {}), false);

    const changed = await store.updateUser(u.id, {
      displayName: 'Alice A.',
      disabled: true,
      passwordHash: 'new',
    });
    assert.deepEqual(changed, { ...u, displayName: 'Alice A.', disabled: true });
    assert.equal((await store.getUserByUsername(u.username))?.passwordHash, 'new');
    assert.equal(await store.countAdmins(), admins, 'disabled admins do not count');
    assert.deepEqual(await store.updateUser(u.id, {}), changed);
    assert.equal(await store.updateUser('no-such-id', { role: 'user' }), null);
    assert.equal(await store.getUserByUsername('nobody'), null);

    assert.equal(await store.deleteUser(u.id), true);
    assert.equal(await store.deleteUser(u.id), false);
    assert.equal(await store.getUser(u.id), null);
  });

  it('refuses duplicate names with StoreConflictError naming the field', T, async () => {
    const name = uniq('dup');
    await store.createUser({ username: name, role: 'user', passwordHash: hash });
    await conflict(
      store.createUser({ username: name, role: 'user', passwordHash: hash }),
      'username',
      /taken/,
    );

    const g1 = await store.createGroup({ name });
    const g2 = await store.createGroup({ name: uniq('group') });
    await conflict(store.createGroup({ name }), 'name');
    await conflict(store.updateGroup(g2.id, { name: g1.name }), 'name');

    const z1 = await store.createZone({ name });
    const z2 = await store.createZone({ name: uniq('zone') });
    await conflict(store.createZone({ name }), 'name');
    await conflict(store.updateZone(z2.id, { name }), 'name');

    const s = { protocol: 'vnc' as const, host: 'h', port: 5900, zoneId: z1.id };
    await store.createServer({ ...s, name });
    const s2 = await store.createServer({ ...s, name: uniq('server') });
    await conflict(store.createServer({ ...s, name }), 'name', /server named/);
    await conflict(store.updateServer(s2.id, { name }), 'name');

    const p = { zoneId: z1.id, kind: 'guac' as const, secretHash: 'h' };
    await store.createProxy({ ...p, name });
    const p2 = await store.createProxy({ ...p, name: uniq('proxy') });
    await conflict(store.createProxy({ ...p, name }), 'name', /proxy named/);
    await conflict(store.updateProxy(p2.id, { name }), 'name');
    // The failed updates changed nothing.
    assert.equal((await store.getServer(s2.id))?.name, s2.name);
    assert.equal((await store.getGroup(g2.id))?.name, g2.name);
  });

  it('refuses dangling references with the field that dangles, leaving nothing behind', T, async () => {
    const zone = await store.createZone({ name: uniq('zone') });
    const user = await store.createUser({ username: uniq('u'), role: 'user', passwordHash: hash });
    const s = { protocol: 'rdp' as const, host: 'h', port: 3389 };
    const name = uniq('server');
    await conflict(
      store.createServer({ ...s, name, zoneId: 'missing-zone' }),
      'zoneId',
      /unknown zone: missing-zone/,
    );
    await conflict(
      store.createServer({ ...s, name, zoneId: zone.id, userIds: [user.id, 'ghost'] }),
      'userIds',
      /ghost/,
    );
    await conflict(store.createServer({ ...s, name, zoneId: zone.id, groupIds: ['ghost'] }), 'groupIds');
    assert.equal(
      (await store.listServers()).some((x) => x.name === name),
      false,
    );
    const server = await store.createServer({ ...s, name, zoneId: zone.id });
    await conflict(store.updateServer(server.id, { zoneId: 'nope' }), 'zoneId');
    await conflict(store.updateServer(server.id, { host: 'changed', userIds: ['ghost'] }), 'userIds');
    assert.equal((await store.getServer(server.id))?.host, 'h', 'the failed update was rolled back');

    const gname = uniq('group');
    await conflict(store.createGroup({ name: gname, memberIds: ['ghost'] }), 'memberIds');
    assert.equal(
      (await store.listGroups()).some((g) => g.name === gname),
      false,
    );
    await conflict(
      store.createProxy({ name: uniq('p'), zoneId: 'nope', kind: 'guac', secretHash: 'x' }),
      'zoneId',
    );
    await conflict(
      store.createWebSession({
        id: uniq('ws'),
        userId: 'ghost',
        csrfToken: 'c',
        createdAt: 1,
        expiresAt: 2,
        lastSeenAt: 1,
      }),
      'userId',
    );
  });

  it('keeps groups with members and DLP settings', T, async () => {
    const a = await store.createUser({ username: uniq('a'), role: 'user', passwordHash: hash });
    const b = await store.createUser({ username: uniq('b'), role: 'user', passwordHash: hash });
    const g = await store.createGroup({
      name: uniq('staff'),
      dlp: { clipboardDown: false, printing: true, bogus: true } as never,
      memberIds: [b.id, a.id, a.id],
    });
    assert.deepEqual(g.dlp, { clipboardDown: false, printing: true });
    assert.deepEqual(g.memberIds, [a.id, b.id].sort());
    assert.deepEqual(await store.getGroup(g.id), g);
    assert.deepEqual(await store.groupPoliciesOfUser(a.id), [{ clipboardDown: false, printing: true }]);

    const updated = await store.updateGroup(g.id, { memberIds: [b.id], dlp: { upload: false } });
    assert.deepEqual(updated?.memberIds, [b.id]);
    assert.deepEqual(updated?.dlp, { upload: false });
    assert.deepEqual(await store.groupPoliciesOfUser(a.id), []);
    assert.ok((await store.listGroups()).some((x) => x.id === g.id && x.memberIds.length === 1));
    assert.equal(await store.updateGroup('nope', { name: 'x' }), null);

    await store.deleteUser(b.id);
    assert.deepEqual((await store.getGroup(g.id))?.memberIds, [], 'deleting a user removes its memberships');
    assert.equal(await store.deleteGroup(g.id), true);
    assert.equal(await store.getGroup(g.id), null);
  });

  it('keeps zones, and refuses to delete one in use', T, async () => {
    const z = await store.createZone({ name: uniq('dc'), searchAlternateZones: true });
    assert.deepEqual(await store.getZone(z.id), z);
    assert.deepEqual(await store.getZoneByName(z.name), z);
    const z2 = await store.updateZone(z.id, { searchAlternateZones: false });
    assert.equal(z2?.searchAlternateZones, false);
    assert.ok((await store.listZones()).some((x) => x.id === z.id));

    const server = await store.createServer({
      name: uniq('s'),
      protocol: 'ssh',
      host: 'h',
      port: 22,
      zoneId: z.id,
    });
    const proxy = await store.createProxy({ name: uniq('p'), zoneId: z.id, kind: 'guac', secretHash: 'x' });
    await conflict(store.deleteZone(z.id), 'id', /1 server\(s\) and 1 proxy/);
    await store.deleteServer(server.id);
    await conflict(store.deleteZone(z.id), 'id', /0 server\(s\) and 1 proxy/);
    await store.deleteProxy(proxy.id);
    assert.equal(await store.deleteZone(z.id), true);
    assert.equal(await store.deleteZone(z.id), false);
    assert.equal(await store.getZoneByName(z.name), null);
  });

  it('keeps servers with params, DLP and grants', T, async () => {
    const zone = await store.createZone({ name: uniq('zone') });
    const zone2 = await store.createZone({ name: uniq('zone') });
    const user = await store.createUser({ username: uniq('u'), role: 'user', passwordHash: hash });
    const group = await store.createGroup({ name: uniq('g') });
    const s = await store.createServer({
      name: uniq('desk'),
      protocol: 'rdp',
      host: '10.0.0.5',
      port: 3389,
      zoneId: zone.id,
      params: { 'color-depth': '16', security: 'nla' },
      dlp: { clipboardUp: false },
      userIds: [user.id],
      groupIds: [group.id],
    });
    assert.deepEqual(s.params, { 'color-depth': '16', security: 'nla' });
    assert.deepEqual(s.dlp, { clipboardUp: false });
    assert.deepEqual([s.userIds, s.groupIds, s.hasCredentials], [[user.id], [group.id], false]);
    assert.deepEqual(await store.getServer(s.id), s);
    assert.deepEqual(
      (await store.listServers()).find((x) => x.id === s.id),
      s,
    );

    const u = await store.updateServer(s.id, { port: 3390, zoneId: zone2.id, userIds: [], params: {} });
    assert.deepEqual(u, { ...s, port: 3390, zoneId: zone2.id, userIds: [], params: {} });
    assert.equal(await store.updateServer('nope', { port: 1 }), null);
    assert.equal(await store.deleteServer(s.id), true);
    assert.equal(await store.getServer(s.id), null);
    assert.equal(await store.deleteServer(s.id), false);
  });

  it('grants servers directly or through groups, and nothing to disabled users', T, async () => {
    const zone = await store.createZone({ name: uniq('zone') });
    const [alice, bob, carol] = await Promise.all(
      ['alice', 'bob', 'carol'].map((x) =>
        store.createUser({ username: uniq(x), role: 'user', passwordHash: hash }),
      ),
    );
    assert.ok(alice && bob && carol);
    const team = await store.createGroup({ name: uniq('team'), memberIds: [bob.id, carol.id] });
    const mk = (userIds: string[], groupIds: string[]) =>
      store.createServer({
        name: uniq('srv'),
        protocol: 'vnc',
        host: 'h',
        port: 5900,
        zoneId: zone.id,
        userIds,
        groupIds,
      });
    const direct = await mk([alice.id], []);
    const viaGroup = await mk([], [team.id]);
    const both = await mk([bob.id], [team.id]);
    const nobody = await mk([], []);

    const names = async (userId: string) => (await store.listServersForUser(userId)).map((s) => s.id).sort();
    assert.deepEqual(await names(alice.id), [direct.id]);
    assert.deepEqual(await names(bob.id), [viaGroup.id, both.id].sort());
    assert.deepEqual(await names(carol.id), [viaGroup.id, both.id].sort());
    assert.deepEqual(
      (await store.listServersForUser(bob.id)).find((s) => s.id === both.id),
      await store.getServer(both.id),
    );
    assert.equal(await store.mayUseServer(alice.id, direct.id), true);
    assert.equal(await store.mayUseServer(alice.id, viaGroup.id), false);
    assert.equal(await store.mayUseServer(carol.id, viaGroup.id), true);
    assert.equal(await store.mayUseServer(carol.id, nobody.id), false);
    assert.equal(await store.mayUseServer('ghost', direct.id), false);
    assert.equal(await store.mayUseServer(alice.id, 'ghost'), false);

    await store.updateUser(bob.id, { disabled: true });
    assert.deepEqual(await names(bob.id), []);
    assert.equal(await store.mayUseServer(bob.id, both.id), false);
    await store.updateUser(bob.id, { disabled: false });
    assert.equal(await store.mayUseServer(bob.id, both.id), true);

    await store.updateGroup(team.id, { memberIds: [bob.id] });
    assert.deepEqual(await names(carol.id), []);
    await store.deleteGroup(team.id);
    assert.deepEqual(await names(bob.id), [both.id]);
    assert.deepEqual((await store.getServer(viaGroup.id))?.groupIds, []);
    await store.deleteUser(alice.id);
    assert.deepEqual((await store.getServer(direct.id))?.userIds, [], 'deleting a user removes its grants');
  });

  it('seals credentials at rest, bound to the server id, and notices tampering', T, async () => {
    const zone = await store.createZone({ name: uniq('zone') });
    const creds = { username: 'Administrator', password: 'Pa55-w0rd-sekrit', domain: 'CORP' };
    const s = await store.createServer({
      name: uniq('s'),
      protocol: 'rdp',
      host: 'h',
      port: 3389,
      zoneId: zone.id,
      credentials: creds,
    });
    const other = await store.createServer({
      name: uniq('s'),
      protocol: 'rdp',
      host: 'h',
      port: 3389,
      zoneId: zone.id,
    });
    assert.equal(s.hasCredentials, true);
    assert.equal(other.hasCredentials, false);
    assert.equal('credentials' in s, false);
    assert.deepEqual(await store.getServerCredentials(s.id), creds);
    assert.equal(await store.getServerCredentials(other.id), null);
    assert.equal(await store.getServerCredentials('ghost'), null);

    const raw = await store.db.get<{ credentials: string }>('SELECT credentials FROM servers WHERE id = ?', [
      s.id,
    ]);
    assert.ok(raw?.credentials.startsWith('v1.'));
    for (const secret of [creds.password, creds.username, 'CORP', 'sekrit'])
      assert.ok(!raw?.credentials.includes(secret));

    // Sealed for s, copied to other: the AAD (server id) does not match.
    await store.db.run('UPDATE servers SET credentials = ? WHERE id = ?', [raw?.credentials ?? '', other.id]);
    await assert.rejects(
      store.getServerCredentials(other.id),
      /servers\.credentials of .*failed authentication/,
    );
    // One character changed in the ciphertext.
    const text = raw?.credentials ?? '';
    const i = text.length - 5;
    const tampered = text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
    await store.db.run('UPDATE servers SET credentials = ? WHERE id = ?', [tampered, s.id]);
    await assert.rejects(store.getServerCredentials(s.id), /failed authentication/);

    const cleared = await store.updateServer(s.id, { credentials: null });
    assert.equal(cleared?.hasCredentials, false);
    assert.equal(await store.getServerCredentials(s.id), null);
    const set = await store.updateServer(s.id, { credentials: { password: 'only' } });
    assert.equal(set?.hasCredentials, true);
    assert.deepEqual(await store.getServerCredentials(s.id), { password: 'only' });
    assert.equal(
      (await store.updateServer(s.id, { host: 'h2' }))?.hasCredentials,
      true,
      'left alone when not in the patch',
    );
    assert.equal((await store.updateServer(s.id, { credentials: { username: '' } }))?.hasCredentials, false);
  });

  it('keeps connection proxies, their health and registration', T, async () => {
    const z1 = await store.createZone({ name: uniq('zone') });
    const z2 = await store.createZone({ name: uniq('zone') });
    const mk = (zoneId: string, kind: 'guac' | 'rdp-gateway', enabled = true) =>
      store.createProxy({
        name: uniq('proxy'),
        zoneId,
        kind,
        enabled,
        secretHash: `hash-${n}`,
        address: 'http://a:1',
      });
    const a = await mk(z1.id, 'guac');
    const b = await mk(z1.id, 'guac', false);
    const c = await mk(z1.id, 'rdp-gateway');
    const d = await mk(z2.id, 'guac');
    assert.deepEqual(await store.getProxy(a.id), a);
    assert.equal(a.lastHealth, null);
    assert.equal((await store.getProxyByName(a.name))?.secretHash, `hash-${n - 3}`);
    assert.equal(await store.getProxyByName('ghost'), null);
    const ids = async (kind: 'guac' | 'rdp-gateway', zoneId: string, except?: boolean) =>
      (await store.listEnabledProxies(kind, zoneId, except)).map((p) => p.id);
    assert.deepEqual(await ids('guac', z1.id), [a.id]);
    assert.deepEqual(await ids('rdp-gateway', z1.id), [c.id]);
    assert.ok((await ids('guac', z1.id, true)).includes(d.id));
    assert.ok(!(await ids('guac', z1.id, true)).includes(a.id));
    assert.deepEqual(await ids('guac', z2.id), [d.id]);

    await store.updateProxy(b.id, { enabled: true });
    assert.deepEqual((await ids('guac', z1.id)).sort(), [a.id, b.id].sort());
    await store.setProxyHealth(a.id, { ok: false, at: 1234, detail: 'timeout' });
    assert.deepEqual((await store.getProxy(a.id))?.lastHealth, { ok: false, at: 1234, detail: 'timeout' });
    await store.setProxyHealth(a.id, { ok: true, at: 1300 });
    assert.deepEqual((await store.getProxy(a.id))?.lastHealth, { ok: true, at: 1300 });
    await store.markProxyRegistered(a.id, 'http://10.0.0.9:4822', 5000);
    const reg = await store.getProxy(a.id);
    assert.deepEqual([reg?.address, reg?.registeredAt], ['http://10.0.0.9:4822', 5000]);
    const moved = await store.updateProxy(c.id, { zoneId: z2.id, secretHash: 'new' });
    assert.equal(moved?.zoneId, z2.id);
    assert.equal((await store.getProxyByName(c.name))?.secretHash, 'new');
    assert.equal(await store.updateProxy('ghost', { enabled: false }), null);
    assert.ok((await store.listProxies()).length >= 4);
    assert.equal(await store.deleteProxy(d.id), true);
    assert.equal(await store.getProxy(d.id), null);
  });
});
