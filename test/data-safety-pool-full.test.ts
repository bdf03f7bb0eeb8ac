// The fault suite, a full pool: ENOSPC in the middle of a transfer is "pool full", not retried, FAILED;
// the earlier snapshot and the rest of the copy are untouched. A small pool of its own, really filled.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cacheDir } from '../devenv/paths.js';
import { waitFor } from '../devenv/process.js';
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

  // The pool stays full until someone frees it (the next run's reserve check says so): the operator
  // removes the half-written file, and the next backup is good again.
  const blocked = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.match(blocked.stderr, /would fall below its reserve/, blocked.stdout + blocked.stderr);
  rmSync(join(rig.source, 'huge.bin'));
  rmSync(join(await rig.copyPath(), rig.source, 'huge.bin'), { force: true });
  // ZFS frees the blocks when the transaction group syncs, not at unlink, and over more than one sync:
  // wait until most of the pool is free again and the figure has stopped moving (a clone made while frees
  // are still pending can fail "out of space" although "available" already looks large).
  let previous = -1;
  await waitFor(
    'space freed',
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const available = Number((await zfs(['get', '-H', '-p', '-o', 'value', 'available', pool])).trim());
      const settled = available > 64 * 1024 * 1024 && available === previous;
      previous = available;
      return settled;
    },
    60_000,
  );
  await assertSnapshotIntact(rig, goodSnapshot, goodTree);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const recovered = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.match(recovered.stdout, /^SUCCESS: /m, recovered.stdout + recovered.stderr);
});
