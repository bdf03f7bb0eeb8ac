// The web console's background collection (web/fleet-cache.ts): pages are served the rows collected last
// without a new collection each; an action makes the next page wait for rows collected after it; a failed
// collection leaves the kept rows served.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetRowsCache } from '../web/fleet-cache.js';
import type { ConsoleRow } from '../web/fleet-data.js';

function row(host: string): ConsoleRow {
  return { host, server: 's', verdict: 'OK', reasons: [] } as unknown as ConsoleRow;
}

test('loads are served the collected rows; only the first waits for a collection', async () => {
  let collections = 0;
  const cache = new FleetRowsCache(async () => [row(`h${++collections}`)], 60_000);
  try {
    const first = await cache.rows();
    const again = await cache.rows();
    assert.equal(collections, 1);
    assert.deepEqual([first.rows[0]!.host, again.rows[0]!.host], ['h1', 'h1']);
  } finally {
    cache.stop();
  }
});

test('after invalidate the next load gets rows from a collection started after it', async () => {
  let collections = 0;
  const cache = new FleetRowsCache(async () => [row(`h${++collections}`)], 60_000);
  try {
    await cache.rows();
    cache.invalidate();
    const after = await cache.rows();
    assert.equal(after.rows[0]!.host, 'h2');
    assert.equal((await cache.rows()).rows[0]!.host, 'h2', 'and served from memory again');
  } finally {
    cache.stop();
  }
});

test('a failed collection keeps the rows collected before; with none, the load gets the error', async () => {
  let fail = false;
  const cache = new FleetRowsCache(async () => {
    if (fail) throw new Error('visibility down');
    return [row('kept')];
  }, 60_000);
  const failing = new FleetRowsCache(async () => {
    throw new Error('visibility down');
  }, 60_000);
  try {
    await cache.rows();
    fail = true;
    cache.invalidate();
    assert.equal((await cache.rows()).rows[0]!.host, 'kept');
    await assert.rejects(failing.rows(), /visibility down/);
  } finally {
    cache.stop();
    failing.stop();
  }
});
