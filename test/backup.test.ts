// Acceptance 2 and 3: a real backup over SSH into zfs-fuse is an exact copy, and snapshots keep history.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StartedRunReport } from '../client/start-backup.js';
import { zfs } from '../pool/zfs.js';
import { backupWorkflowId, parseSnapshotName, snapshotName } from '../domain/names.js';
import { createRig, withSnapshotClone, type Rig } from './helpers/rig.js';
import { allocatedBytes, buildSampleTree, describeTree } from './helpers/tree.js';

let rig: Rig;
before(async () => {
  rig = await createRig('backup');
  await buildSampleTree(rig.source);
  await rig.startWorker();
});
after(() => rig.close());

test('first backup: the copy is identical to the source and a Tidemark snapshot exists', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  assert.match(run.stdout, /started backup:demo-host@srv-backup-\S+ run \S+\n\s+http:\/\/\S+\/history/);
  assert.match(
    run.stdout,
    /SUCCESS: demo-host on srv-backup-\S+: \d+ files, \d+ bytes in .*snapshot \S+@tidemark-\d{8}T\d{6}Z/,
  );

  const copy = join(await rig.copyPath(), rig.source);
  assert.deepEqual(await describeTree(copy), await describeTree(rig.source));
  // The 20 MB sparse file takes no room in the backup (the test pool is compressed, like production pools).
  assert.ok(allocatedBytes(join(copy, 'var/lib/db/sparse.img')) < 1024 * 1024, 'sparse file stays sparse');

  const snapshots = await rig.snapshots();
  assert.equal(snapshots.length, 1);
  assert.equal(parseSnapshotName(snapshots[0]!)?.label, 'complete');

  // Each step is a round trip through Temporal: plan with dataset, and snapshot with retention, are one each.
  const history = await rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server)).fetchHistory();
  const steps = history.events!.flatMap(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
  );
  assert.deepEqual(steps.sort(), [
    'notifyStart',
    'planAndEnsureDataset',
    'probeHost',
    'recordOutcome',
    'snapshotAndPrune',
    'transferFiles',
  ]);
});

test('second backup after changes: the copy follows the source, the first snapshot keeps the old tree', async () => {
  const before = await describeTree(rig.source);
  writeFileSync(join(rig.source, 'etc/app/config.ini'), '[main]\nanswer = 43\n');
  rmSync(join(rig.source, 'file with spaces.txt'));
  writeFileSync(join(rig.source, 'new-file.txt'), 'new\n');
  // Snapshot names have one-second resolution.
  await new Promise((resolve) => setTimeout(resolve, 1_100));

  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  const copy = join(await rig.copyPath(), rig.source);
  assert.deepEqual(await describeTree(copy), await describeTree(rig.source));

  const [first, second] = await rig.snapshots();
  assert.ok(first && second && first < second, 'two snapshots, in time order');
  await withSnapshotClone(rig.dataset, first, async (path) => {
    assert.deepEqual(await describeTree(join(path, rig.source)), before);
  });
});

test('a snapshot name already taken in the same second (another run) is never reused: the run takes the next second', async () => {
  const dataset = rig.dataset;
  const soon = Array.from({ length: 5 }, (_, offset) => snapshotName(new Date(Date.now() + offset * 1_000)));
  // The previous test's run may have taken this very second's name already: that one is taken too.
  const existing = await rig.snapshots();
  for (const name of soon) if (!existing.includes(name)) await zfs(['snapshot', `${dataset}@${name}`]);
  const before = await rig.snapshots();

  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait', '--json']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  const added = (await rig.snapshots()).filter((name) => !before.includes(name));
  assert.equal(added.length, 1, 'exactly one new snapshot');
  assert.ok(!soon.includes(added[0]!));
  // --json: stdout is the JSON alone (the messages went to stderr), the run with its summary.
  const [report, ...more] = JSON.parse(run.stdout) as StartedRunReport[];
  assert.deepEqual(more, []);
  assert.equal(report?.workflowId, backupWorkflowId(rig.hostName, rig.server));
  assert.equal(report?.alreadyRunning, false);
  assert.equal(report?.summary?.status, 'SUCCESS');
  assert.equal(report?.summary?.snapshot, `${dataset}@${added[0]}`);
  assert.match(run.stderr, /^started backup:demo-host@\S+ run /m);
  for (const name of soon) assert.ok((await rig.snapshots()).includes(name), `${name} untouched`);
});
