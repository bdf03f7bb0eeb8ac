// The fault suite: a run never makes things worse than doing nothing. Each scenario runs against the real
// parts (sshd, rsync, zfs-fuse, Temporal) and shows the run's status and message, that the newest good
// snapshot lost no file, and that the live copy was not emptied where a guard holds.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { zfs } from '../pool/zfs.js';
import { editInventory, setHostSettings } from './helpers/inventory-edit.js';
import { createRig, type Rig } from './helpers/rig.js';
import { assertSnapshotIntact, countFiles, lastSummary, newestSnapshot } from './helpers/safety.js';
import { describeTree } from './helpers/tree.js';

const pause = () => new Promise((resolve) => setTimeout(resolve, 1_100));

/** `count` small files under `dir`. */
function writeFiles(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  for (let index = 0; index < count; index++) writeFileSync(join(dir, `file-${index}.txt`), `content ${index}\n`);
}

describe('the source shrinks', () => {
  let rig: Rig;
  before(async () => {
    rig = await createRig('shrink');
    writeFiles(join(rig.source, 'data'), 300);
    writeFileSync(join(rig.source, 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 3));
    await rig.startWorker();
  });
  after(() => rig.close());

  test('emptied source: rsync stops deleting at --max-delete, the run ends WARNING "shrink held", the copy keeps its files', async () => {
    const good = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(good.exitCode, 0, good.stdout + good.stderr);
    const goodSnapshot = (await newestSnapshot(rig, 'complete'))!;
    const goodTree = await describeTree(rig.source);

    rmSync(join(rig.source, 'data'), { recursive: true });
    rmSync(join(rig.source, 'big.bin'));
    await pause();
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    // A script taking a backup before a risky change can tell the copy was held back (ExitCode.backupWarning).
    assert.equal(run.exitCode, 5, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /^WARNING: demo-host on \S+: shrink held: rsync stopped deleting at --max-delete=\d+ .*labelled suspect/m,
    );
    const copy = join(await rig.copyPath(), rig.source);
    // 301 files (plus directories) in the copy; --max-delete is a quarter of the baseline's entries.
    assert.ok(countFiles(copy) >= 301 - 80, `copy kept ${countFiles(copy)} of 301 files`);
    assert.ok(await newestSnapshot(rig, 'suspect'), 'the run snapshot is labelled suspect');
    await assertSnapshotIntact(rig, goodSnapshot, goodTree);
  });

  test('an operator who really deleted the data lets one run through with --allow-shrink; it becomes the new baseline', async () => {
    await pause();
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait', '--allow-shrink']);
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^SUCCESS: /m);
    assert.equal(countFiles(join(await rig.copyPath(), rig.source)), 0);
    const summary = await lastSummary(rig);
    assert.equal(summary.status, 'SUCCESS');
    // Next run against the (empty) baseline: nothing to hold.
    writeFiles(join(rig.source, 'data'), 10);
    await pause();
    const next = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.match(next.stdout, /^SUCCESS: /m, next.stdout + next.stderr);
  });

  test('90% of the files gone: held at --max-delete and suspect; a big file emptied (bytes drop) is suspect', async () => {
    writeFiles(join(rig.source, 'data'), 300);
    writeFileSync(join(rig.source, 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 3));
    await pause();
    assert.match((await rig.cli(['start-backup', '--host', rig.hostName, '--wait'])).stdout, /^SUCCESS: /m);
    const goodSnapshot = (await newestSnapshot(rig, 'complete'))!;
    const goodTree = await describeTree(rig.source);
    for (let index = 0; index < 270; index++) rmSync(join(rig.source, 'data', `file-${index}.txt`));
    await pause();
    const held = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.match(
      held.stdout,
      /^WARNING: .*shrink held: rsync stopped deleting at --max-delete=/m,
      held.stdout + held.stderr,
    );
    assert.match(held.stdout, /source shrank against tidemark-\S+: files 3\d\d → 3\d \(-\d+%\)/);
    assert.ok(countFiles(join(await rig.copyPath(), rig.source, 'data')) >= 300 - 80, 'most of the copy is kept');
    await assertSnapshotIntact(rig, goodSnapshot, goodTree);

    // No file deleted, but 4 MiB of the 4.01 MiB gone: the bytes guard marks it suspect.
    writeFiles(join(rig.source, 'data'), 300);
    await pause();
    assert.match(
      (await rig.cli(['start-backup', '--host', rig.hostName, '--wait', '--allow-shrink'])).stdout,
      /^SUCCESS: /m,
    );
    truncateSync(join(rig.source, 'big.bin'), 0);
    await pause();
    const shrunk = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.match(
      shrunk.stdout,
      /^WARNING: .*source shrank against tidemark-\S+: bytes \d+ → \d+ \(-\d+%\), more than guards.shrinkPercent 30%/m,
      shrunk.stdout,
    );
    assert.match((await newestSnapshot(rig, 'suspect'))!, /-suspect$/);
  });
});

describe('a filesystem is not mounted this time', () => {
  let rig: Rig;
  let dataMount: string;
  before(async () => {
    rig = await createRig('unmounted');
    mkdirSync(join(rig.source, 'etc'), { recursive: true });
    writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
    dataMount = join(rig.source, 'srv/data');
    mkdirSync(dataMount, { recursive: true });
    const image = join(rig.dir, 'data.img');
    await execa('truncate', ['-s', '20M', image]);
    await execa('mkfs.ext4', ['-q', '-F', image]);
    await execa('mount', ['-o', 'loop', image, dataMount]);
    // The standard excludes leave lost+found out; the comparison below is of what a backup holds.
    rmSync(join(dataMount, 'lost+found'), { recursive: true });
    writeFiles(join(dataMount, 'projects'), 20);
    setHostSettings(rig, {
      paths: undefined,
      selectionRoot: rig.source,
      excludeFile: join(rig.dir, 'none.conf'),
      hooks: { dir: join(rig.dir, 'no-hooks') },
    });
    await rig.startWorker();
  });
  after(async () => {
    await execa('umount', ['-l', dataMount], { reject: false });
    await rig.close();
  });

  test('its copy is kept (protect rule), the run ends WARNING naming it, the good snapshot is intact', async () => {
    const good = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.match(good.stdout, /^SUCCESS: /m, good.stdout + good.stderr);
    const goodSnapshot = (await newestSnapshot(rig, 'complete'))!;
    const goodTree = await describeTree(rig.source);
    await execa('umount', [dataMount]);
    await pause();

    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait', '--ok-on-warning']);
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      new RegExp(`^WARNING: demo-host on \\S+: not mounted this time, copy kept: ${dataMount}`, 'm'),
    );
    assert.equal(
      countFiles(join(await rig.copyPath(), dataMount, 'projects')),
      20,
      'the unmounted filesystem keeps its copy',
    );
    await assertSnapshotIntact(rig, goodSnapshot, goodTree);
    // The next run still remembers the mount point (the protected copy is carried forward).
    await pause();
    const again = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.match(again.stdout, /not mounted this time, copy kept/);
  });
});

describe('the pool and the dataset', () => {
  let rig: Rig;
  before(async () => {
    rig = await createRig('poolguard');
    writeFiles(join(rig.source, 'etc'), 5);
    await rig.startWorker();
  });
  after(() => rig.close());

  test('a dataset in the way that Tidemark did not create: FAILED with the adopt command, its files untouched; adopt-dataset then lets backups in', async () => {
    await zfs(['create', '-p', rig.dataset]);
    const foreign = join(await rig.copyPath(), 'precious.txt');
    writeFileSync(foreign, 'not a backup\n');
    // The backup server's after-hook hears of the failed run, with its dataset.
    const hookLog = join(rig.dir, 'after-hook.log');
    const hook = join(rig.dir, 'after.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$TIDEMARK_STATUS $TIDEMARK_DATASET" >> ${hookLog}\n`, { mode: 0o755 });
    editInventory(rig, (inventory) => {
      inventory.servers[rig.server]!.hooks = { after: hook };
    });
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    editInventory(rig, (inventory) => {
      delete inventory.servers[rig.server]!.hooks;
    });
    assert.equal(run.exitCode, 1, run.stdout + run.stderr);
    assert.match(
      run.stderr,
      /failed during dataset: dataset \S+ already exists and was not created by Tidemark; nothing was copied into it\. .*tidemark adopt-dataset --host demo-host/,
    );
    assert.equal(readFileSync(hookLog, 'utf8'), `FAILED ${rig.dataset}\n`);
    assert.ok(countFiles(await rig.copyPath()) === 1, 'the foreign file is still there');
    assert.deepEqual(await rig.snapshots(), []);

    const adopted = await rig.cli(['adopt-dataset', '--host', rig.hostName]);
    assert.equal(adopted.exitCode, 0, adopted.stderr);
    const after = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.match(after.stdout, /^SUCCESS: /m, after.stdout + after.stderr);
    for (const [property, value] of [
      ['setuid', 'off'],
      ['devices', 'off'],
      ['exec', 'off'],
      ['tidemark:host', 'demo-host'],
    ]) {
      assert.equal((await zfs(['get', '-H', '-o', 'value', property!, rig.dataset])).trim(), value, property);
    }
  });

  test('a mountpoint outside the server dataset is refused', async () => {
    const elsewhere = join(rig.dir, 'elsewhere');
    await zfs(['set', `mountpoint=${elsewhere}`, rig.dataset]);
    try {
      const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
      assert.equal(run.exitCode, 1);
      assert.match(run.stderr, /has mountpoint "\S+elsewhere": it lies outside its parent's mountpoint/);
    } finally {
      await zfs(['inherit', 'mountpoint', rig.dataset]);
    }
  });

  test('pool below its reserve before a run: FAILED without starting rsync, the copy and snapshots untouched', async () => {
    const snapshotsBefore = await rig.snapshots();
    writeFileSync(join(rig.source, 'must-not-arrive'), 'x');
    const { editInventory } = await import('./helpers/inventory-edit.js');
    // More than the whole test pool: no run can leave that much free.
    editInventory(rig, (inventory) => (inventory.servers[rig.server].reserve = '8G'));
    try {
      const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
      assert.equal(run.exitCode, 1, run.stdout + run.stderr);
      assert.match(run.stderr, /pool \S+ would fall below its reserve: .* reserve .*nothing was copied/);
      assert.equal(countFiles(join(await rig.copyPath(), rig.source)), 5, 'nothing new arrived');
      assert.deepEqual(await rig.snapshots(), snapshotsBefore);
    } finally {
      editInventory(rig, (inventory) => delete inventory.servers[rig.server].reserve);
    }
  });
});
