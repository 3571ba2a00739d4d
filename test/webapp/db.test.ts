// The SQL driver layer: placeholder rewriting, URL redaction, choosing and opening the database, and the
// driver contract (types, transactions, constraint errors) on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqlConstraintError, type SqlDriver } from '../../src/webapp/db/driver.js';
import { applyMigrations } from '../../src/webapp/db/migrate.js';
import { describeDatabase, openDriver, redactDatabaseUrl, sqlitePath } from '../../src/webapp/db/open.js';
import { toPgPlaceholders } from '../../src/webapp/db/pg-driver.js';
import { freePort } from '../e2e/helpers/free-port.js';
import { registerTempDir, removeTempDir, sleep } from '../e2e/helpers/processes.js';
import { forEachDatabase } from '../helpers/postgres.js';

const T = { timeout: 15_000 };

describe('SQL helpers', T, () => {
  it('rewrites ? to $n outside quotes and comments', T, () => {
    assert.equal(toPgPlaceholders('SELECT ? , ?'), 'SELECT $1 , $2');
    assert.equal(
      toPgPlaceholders(`SELECT '?', "a?b", ? -- what?\n/* ? */ FROM t WHERE x = ?`),
      `SELECT '?', "a?b", $1 -- what?\n/* ? */ FROM t WHERE x = $2`,
    );
    assert.equal(toPgPlaceholders("x = 'it''s?' AND y = ?"), "x = 'it''s?' AND y = $1");
    assert.equal(toPgPlaceholders("unterminated '?"), "unterminated '?");
  });

  it('hides passwords in database URLs', T, () => {
    assert.equal(
      redactDatabaseUrl('postgres://gh:s3cr%40t@db:5432/gatehouse'),
      'postgres://gh:***@db:5432/gatehouse',
    );
    assert.equal(redactDatabaseUrl('postgresql://gh@db/gatehouse'), 'postgresql://gh@db/gatehouse');
    assert.equal(redactDatabaseUrl('postgres://gh:pw@[bad/x'), 'postgres://gh:***@[bad/x');
    assert.match(
      describeDatabase('postgres://u:pw@h/d', '/data'),
      /^PostgreSQL database postgres:\/\/u:\*\*\*@h\/d$/,
    );
  });

  it('chooses SQLite for "" (in dataDir) and file paths, PostgreSQL for postgres URLs', T, () => {
    assert.equal(sqlitePath('', '/srv/gh'), '/srv/gh/gatehouse.db');
    assert.equal(sqlitePath('/var/lib/x.db', '/srv/gh'), '/var/lib/x.db');
    assert.equal(sqlitePath('postgres://h/d', '/srv/gh'), null);
    assert.equal(sqlitePath('POSTGRESQL://h/d', '/srv/gh'), null);
  });
});

describe('openDriver', T, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-open-'));
  registerTempDir(dir);
  after(() => removeTempDir(dir));

  it('creates <dataDir>/gatehouse.db with private permissions, in WAL mode', T, async () => {
    const dataDir = join(dir, 'data', 'nested');
    const db = await openDriver('', dataDir);
    try {
      assert.equal(db.dialect, 'sqlite');
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dataDir, 'gatehouse.db')).mode & 0o777, 0o600);
      assert.deepEqual(await db.get('PRAGMA journal_mode'), { journal_mode: 'wal' });
      assert.deepEqual(await db.get('PRAGMA foreign_keys'), { foreign_keys: 1 });
      assert.deepEqual(await db.get('PRAGMA synchronous'), { synchronous: 1 });
    } finally {
      await db.close();
      await db.close();
    }
    await assert.rejects(db.get('SELECT 1'), /closed/);
  });

  it('names the SQLite file it cannot open', T, async () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not a database, just some text that is long enough to have a header');
    await assert.rejects(
      openDriver(junk, dir),
      new RegExp(`cannot open SQLite database ${junk}: .*not a database`),
    );
    const blocked = join(junk, 'sub', 'x.db');
    await assert.rejects(openDriver(blocked, dir), /cannot open SQLite database .*junk\.db\/sub\/x\.db/);
  });

  it('names the PostgreSQL database it cannot reach, without the password', T, async () => {
    const port = await freePort();
    const url = `postgres://gh:Sup3r-s3cret@127.0.0.1:${port}/gatehouse`;
    await assert.rejects(openDriver(url, dir, { pg: { connectionTimeoutMillis: 2000 } }), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(`cannot open PostgreSQL database postgres://gh:\\*\\*\\*@127.0.0.1:${port}/gatehouse: `),
      );
      assert.ok(!err.message.includes('Sup3r-s3cret'));
      return true;
    });
  });
});

forEachDatabase('SqlDriver', (tdb) => {
  let db: SqlDriver;
  before(async () => {
    db = await openDriver(tdb.database, tdb.dataDir);
    await db.exec(
      'CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT NOT NULL, flag INTEGER NOT NULL, note TEXT)',
    );
  });
  after(() => db?.close());

  it('binds and returns strings, big ms times as numbers, booleans as 1/0 and nulls', T, async () => {
    const big = 1_800_000_000_123;
    assert.deepEqual(
      await db.run('INSERT INTO t (id, n, flag, note) VALUES (?, ?, ?, ?)', ['a', big, true, null]),
      {
        changes: 1,
      },
    );
    assert.deepEqual(await db.get('SELECT id, n, flag, note FROM t WHERE id = ?', ['a']), {
      id: 'a',
      n: big,
      flag: 1,
      note: null,
    });
    assert.deepEqual(await db.get('SELECT count(*) AS c FROM t'), { c: 1 });
    assert.equal(await db.get('SELECT id FROM t WHERE id = ?', ['none']), undefined);
    assert.deepEqual(await db.all('SELECT id FROM t WHERE id = ?', ['none']), []);
  });

  it('reports constraint violations as SqlConstraintError', T, async () => {
    await assert.rejects(
      db.run('INSERT INTO t (id, n, flag) VALUES (?, ?, ?)', ['a', 1, 0]),
      (e: unknown) => e instanceof SqlConstraintError && e.kind === 'unique',
    );
    await assert.rejects(
      db.run('INSERT INTO t (id, n, flag) VALUES (?, ?, ?)', ['b', null, 0]),
      (e: unknown) => e instanceof SqlConstraintError && e.kind === 'not-null',
    );
    await assert.rejects(
      db.run('INSERT INTO nowhere VALUES (1)'),
      (e: unknown) => !(e instanceof SqlConstraintError),
    );
  });

  it('commits a transaction, and rolls it back when the body throws', T, async () => {
    const got = await db.transaction(async (tx) => {
      await tx.run('INSERT INTO t (id, n, flag) VALUES (?, ?, ?)', ['c', 1, 0]);
      return (await tx.get<{ n: number }>('SELECT n FROM t WHERE id = ?', ['c']))?.n;
    });
    assert.equal(got, 1);
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id, n, flag) VALUES (?, ?, ?)', ['d', 1, 0]);
        await tx.run('INSERT INTO t (id, n, flag) VALUES (?, ?, ?)', ['c', 1, 0]);
      }),
      SqlConstraintError,
    );
    assert.equal(await db.get('SELECT id FROM t WHERE id = ?', ['d']), undefined);
  });

  it(
    'keeps queries outside a transaction out of it (they wait on SQLite) and survives a rollback',
    T,
    async () => {
      let inside: () => void = () => {};
      const entered = new Promise<void>((resolve) => {
        inside = resolve;
      });
      const tx = db.transaction(async (t) => {
        await t.run('INSERT INTO t (id, n, flag) VALUES (?, ?, ?)', ['e', 1, 0]);
        inside();
        await sleep(100);
        throw new Error('roll back');
      });
      await entered;
      const outside = db.run('INSERT INTO t (id, n, flag) VALUES (?, ?, ?)', ['f', 1, 0]);
      await assert.rejects(tx, /roll back/);
      await outside;
      assert.equal(await db.get('SELECT id FROM t WHERE id = ?', ['e']), undefined);
      assert.deepEqual(await db.get('SELECT id FROM t WHERE id = ?', ['f']), { id: 'f' });
    },
  );

  it('runs 50 concurrent transactions without losing an update', T, async () => {
    await db.run('INSERT INTO t (id, n, flag) VALUES (?, ?, ?)', ['counter', 0, 0]);
    await Promise.all(
      Array.from({ length: 50 }, () =>
        db.transaction(async (tx) => {
          await tx.run('UPDATE t SET n = n + 1 WHERE id = ?', ['counter']);
        }),
      ),
    );
    assert.deepEqual(await db.get('SELECT n FROM t WHERE id = ?', ['counter']), { n: 50 });
  });

  it('names the database and hides the password when the login fails (PostgreSQL)', T, async (t) => {
    if (tdb.dialect !== 'postgres') return t.skip('PostgreSQL only');
    const url = new URL(tdb.database);
    url.password = 'wr0ng-Passw0rd';
    await assert.rejects(openDriver(url.toString(), tdb.dataDir), (err: Error) => {
      assert.match(
        err.message,
        /^cannot open PostgreSQL database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+: .*password/,
      );
      assert.ok(!err.message.includes('wr0ng-Passw0rd'));
      return true;
    });
  });

  it('refuses migrations out of order, and reports a failing one by id without recording it', T, async () => {
    await assert.rejects(
      applyMigrations(db, [
        { id: '0002', sql: 'SELECT 1' },
        { id: '0001', sql: 'SELECT 1' },
      ]),
      /out of order: 0002 before 0001/,
    );
    await assert.rejects(
      applyMigrations(db, [
        { id: '0001-ok', sql: 'CREATE TABLE m1 (id TEXT)' },
        { id: '0002-bad', sql: { sqlite: 'CREATE TABLE (', postgres: 'CREATE TABLE (' } },
      ]),
      /migration 0002-bad failed/,
    );
    // The whole run was one transaction: the good migration was rolled back too.
    await assert.rejects(db.get('SELECT id FROM m1'));
  });
});
