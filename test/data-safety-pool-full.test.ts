// The fault suite, a full pool: ENOSPC in the middle of a transfer is "pool full", not retried, FAILED;
// the earlier snapshot and the rest of the copy are untouched. A small pool of its own, really filled.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cacheDir } from '../devenv/paths.js';
import { zfs } from '../pool/zfs.js';
import { destroyPool, ensureFilePool } from '../devenv/zfs-pool.js';
import { backupWorkflowId } from '../domain/names.js';
import { activityRecord } from './helpers/history.js';
import { createRig, type Rig } from './helpers/rig.js';
import { assertSnapshotIntact, countFiles, newestSnapshot } from './helpers/safety.js';
import { describeTree } from './helpers/tree.js';

// Named like the suite's pools (tmtest<pid>), so a killed run's pool is cleaned up by the next run.
const pool = `tmtest${process.pid}`;
const imageFile = join(cacheDir, 'test', `${pool}.img`);
const spare = `${pool}/spare`;
let rig: Rig;
before(async () => {
  await ensureFilePool({ name: pool, imageFile, mountpoint: join(cacheDir, 'test', pool), size: '128M' });
  rig = await createRig('poolfull', { pool });
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  for (let index = 0; index < 20; index++)
    writeFileSync(join(rig.source, 'etc', `file-${index}`), `setting ${index}\n`);
  await rig.startWorker();
});
after(async () => {
  await rig.close();
  await destroyPool(pool);
  rmSync(imageFile, { force: true });
  rmSync(join(cacheDir, 'test', pool), { recursive: true, force: true });
});

test('pool filled to ENOSPC mid-transfer: FAILED as "pool full" without retries, the good snapshot and the copy kept', async () => {
  const good = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.match(good.stdout, /^SUCCESS: /m, good.stdout + good.stderr);
  const goodSnapshot = (await newestSnapshot(rig, 'complete'))!;
  const goodTree = await describeTree(rig.source);
  // Room the operator can give back at once when the pool has filled (see below).
  await zfs(['create', '-o', 'reservation=40M', '-o', 'mountpoint=none', spare]);
  // Incompressible, and more than the whole pool.
  writeFileSync(join(rig.source, 'huge.bin'), randomBytes(200 * 1024 * 1024));
  await new Promise((resolve) => setTimeout(resolve, 1_100));

  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait'], { timeoutMs: 300_000 });
  assert.equal(run.exitCode, 1, run.stdout + run.stderr);
  assert.match(
    run.stderr,
    /failed during transfer: the backup server's pool is full \(rsync exit \d+\): .*No space left on device.*its snapshots are untouched/,
  );
  const record = await activityRecord(rig.client, backupWorkflowId(rig.hostName, rig.server), 'transferFiles');
  assert.deepEqual(record.attempts, [1], 'not retried');
  assert.equal(countFiles(join(await rig.copyPath(), rig.source, 'etc')), 20, 'the copy is not emptied');
  assert.ok((await rig.snapshots()).includes(goodSnapshot));

  // Checked while the pool is still full, the moment it matters: read through a copy in another pool,
  // since a clone would need free space here.
  await assertSnapshotIntact(rig, goodSnapshot, goodTree, { poolIsFull: true });

  // The pool stays full until someone frees it (the next run's reserve check says so): the operator
  // removes the half-written file and frees the spare reservation, and the next backup is good again.
  const blocked = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.match(blocked.stderr, /would fall below its reserve/, blocked.stdout + blocked.stderr);
  rmSync(join(rig.source, 'huge.bin'));
  rmSync(join(await rig.copyPath(), rig.source, 'huge.bin'), { force: true });
  // ZFS frees a deleted file's blocks over the next transaction groups, later on a busy machine, while a
  // dropped reservation is free as soon as the destroy returns: the recovery does not wait on the frees.
  await zfs(['destroy', spare]);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const recovered = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.match(recovered.stdout, /^SUCCESS: /m, recovered.stdout + recovered.stderr);
});
