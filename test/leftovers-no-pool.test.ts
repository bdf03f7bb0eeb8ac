// `status` also runs on machines without ZFS (it reads Temporal): there the leftover-dataset scan finds nothing
// instead of failing, because runPoolTool says the tool is not installed. No services needed: zfs is taken off
// PATH for the test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findLeftovers } from '../client/leftovers.js';
import { runPoolTool } from '../pool/zfs.js';

test('without zfs on PATH, runPoolTool says notInstalled and findLeftovers lists nothing', async () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const result = await runPoolTool('zfs', ['list', '-H', '-o', 'name', '-d', '0']);
    assert.equal(result.notInstalled, true);
    assert.equal(result.exitCode, undefined);
    assert.deepEqual(await findLeftovers({ 'backup-1': 'tank/backup' }, []), { orphans: [], decommissioned: [] });
  } finally {
    process.env.PATH = path;
  }
});
