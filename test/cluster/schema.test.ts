import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate, MIGRATIONS } from '../../src/cluster/schema.ts';
import { postgresForFile } from '../helpers/postgres.ts';

const server = postgresForFile();

async function pools(url: string, n: number): Promise<pg.Pool[]> {
  return Array.from({ length: n }, () => new pg.Pool({ connectionString: url, max: 2 }));
}

test('controllers starting at once: every migration is applied exactly once, the others find the schema current', async () => {
  const url = await server.createDatabase();
  const ps = await pools(url, 4);
  try {
    const results = await Promise.all(ps.map((p) => migrate(p)));
    const applied = results.flatMap((r) => r.applied);
    assert.deepEqual(applied, MIGRATIONS.map((m) => m.version), 'each version applied once in all');
    for (const r of results) assert.equal(r.version, MIGRATIONS.at(-1)!.version);
    const tables = (await ps[0]!.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE tablename LIKE 'openwx_%' ORDER BY 1")).rows.map((r) => r.t);
    assert.deepEqual(tables, ['openwx_accounts', 'openwx_answered', 'openwx_dead_letters', 'openwx_events', 'openwx_messages', 'openwx_outbox', 'openwx_schema_migrations', 'openwx_sessions', 'openwx_workers']);
    const cols = (await ps[0]!.query<{ c: string; t: string }>(
      "SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_name = 'openwx_events' ORDER BY ordinal_position",
    )).rows;
    assert.deepEqual(cols, [
      { c: 'id', t: 'bigint' },
      { c: 'client', t: 'text' },
      { c: 'event_id', t: 'text' },
      { c: 'report', t: 'jsonb' },
      { c: 'created_at', t: 'timestamp with time zone' },
    ]);
    assert.deepEqual((await migrate(ps[1]!)).applied, [], 'a restart applies nothing');
  } finally {
    await Promise.all(ps.map((p) => p.end()));
  }
});

test('a migration appended later is applied alone, once; a failing one leaves the schema as it was', async () => {
  const url = await server.createDatabase();
  const [p] = await pools(url, 1);
  try {
    await migrate(p!);
    const next = [...MIGRATIONS, { version: 1000, name: 'test column', sql: 'ALTER TABLE openwx_workers ADD COLUMN note text' }];
    const [a, b] = await Promise.all([migrate(p!, next), migrate(p!, next)]);
    assert.deepEqual([...a!.applied, ...b!.applied], [1000]);
    const bad = [...next, { version: 1001, name: 'broken', sql: 'ALTER TABLE openwx_workers ADD COLUMN x text; SELECT no_such_function()' }];
    await assert.rejects(migrate(p!, bad), /no_such_function/);
    const cols = (await p!.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'openwx_workers' AND column_name = 'x'")).rowCount;
    assert.equal(cols, 0, 'the failed migration rolled back whole');
    const versions = (await p!.query<{ version: number }>('SELECT version FROM openwx_schema_migrations ORDER BY version')).rows.map((r) => r.version);
    assert.deepEqual(versions, [...MIGRATIONS.map((m) => m.version), 1000]);
  } finally {
    await p!.end();
  }
});
