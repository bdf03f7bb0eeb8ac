// Retiring a host and finding forgotten ones, end to end on the rig's pool and Temporal: `decommission`
// deletes the schedule `sync` made, takes and holds a final snapshot and marks the dataset; `status`
// lists it as decommissioned and a dataset of a host in no inventory as an orphan (exit code unchanged);
// `--destroy` is refused until the mark is older than the grace period, then removes everything.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { PairStatus } from '../fleet/verdict.js';
import type { Leftovers } from '../client/leftovers.js';
import { keepReasonProperty } from '../domain/keep.js';
import { parseSnapshotName } from '../domain/names.js';
import { decommissionGraceMs, decommissionedProperty } from '../pool/decommission-mark.js';
import { datasetInfo, listSnapshots, zfs } from '../pool/zfs.js';
import { backupScheduleId, drillScheduleId } from '../schedule/desired.js';
import { editInventory } from './helpers/inventory-edit.js';
import { createRig, type Rig } from './helpers/rig.js';

type StatusJson = { pairs: PairStatus[] } & Leftovers;

let rig: Rig;
let serverDataset: string;
const retired = 'retired-host';
const ghost = 'ghost';
const oldSnapshot = 'tidemark-20260101T000000Z';

before(async () => {
  rig = await createRig('decom');
  serverDataset = rig.dataset.split('/').slice(0, -1).join('/');
  editInventory(rig, (inventory) => {
    // With restore drills: decommission deletes their schedule too.
    inventory.hosts[retired] = { ...inventory.hosts[rig.hostName], verify: { every: '1d' } };
    // No sync-inventory schedule on the shared dev server: only the backup schedules are under test.
    inventory.sync = { enabled: false };
  });
  // Something to copy: an empty source ends as WARNING, and the status exit code below needs an OK pair.
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  await rig.startWorker();
  const backup = await rig.cli(['start-backup', '--host', rig.hostName, '--server', rig.server, '--wait']);
  assert.equal(backup.exitCode, 0, backup.stdout + backup.stderr);
  assert.match(backup.stdout, /SUCCESS/, backup.stdout);
  // What a backup of each would have left: a marked dataset with one snapshot (ghost is in no inventory).
  for (const host of [retired, ghost]) {
    await zfs(['create', '-o', `tidemark:host=${host}`, `${serverDataset}/${host}`]);
    await zfs(['snapshot', `${serverDataset}/${host}@${oldSnapshot}`]);
  }
});
after(async () => {
  await rig?.client.schedule
    .getHandle(backupScheduleId(rig.hostName, rig.server))
    .delete()
    .catch(() => undefined);
  for (const id of [backupScheduleId(retired, rig.server), drillScheduleId(retired, rig.server)])
    await rig?.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await rig?.close();
});

async function scheduleExists(scheduleId: string): Promise<boolean> {
  try {
    await rig.client.schedule.getHandle(scheduleId).describe();
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}

async function status(): Promise<{ exitCode: number; json: StatusJson }> {
  const result = await rig.cli(['status', '--json']);
  // One array: the pairs, then orphans and decommissioned datasets told apart by lastStatus.
  const rows = JSON.parse(result.stdout) as Array<{ lastStatus: string }>;
  const of = (status: string) => rows.filter((row) => row.lastStatus === status) as unknown as StatusJson['orphans'];
  const json = {
    pairs: rows.filter((row) => !['ORPHAN', 'DECOMMISSIONED'].includes(row.lastStatus)),
    orphans: of('ORPHAN'),
    decommissioned: of('DECOMMISSIONED'),
  } as StatusJson;
  return { exitCode: result.exitCode, json };
}

test('decommission deletes the schedule, holds a final complete snapshot and marks the dataset', async () => {
  const sync = await rig.cli(['sync']);
  assert.equal(sync.exitCode, 0, sync.stdout + sync.stderr);
  assert.equal(await scheduleExists(backupScheduleId(retired, rig.server)), true);
  assert.equal(await scheduleExists(drillScheduleId(retired, rig.server)), true);

  const before = Date.now();
  const result = await rig.cli(['decommission', '--host', retired]);
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  assert.match(result.stdout, new RegExp(`remove ${retired} from the inventory \\(or its NetBox tag\\) too`));
  assert.equal(await scheduleExists(backupScheduleId(retired, rig.server)), false);
  assert.equal(await scheduleExists(drillScheduleId(retired, rig.server)), false);
  assert.equal(
    await scheduleExists(backupScheduleId(rig.hostName, rig.server)),
    true,
    'the other host keeps its schedule',
  );

  const dataset = `${serverDataset}/${retired}`;
  const snapshots = await listSnapshots(dataset);
  assert.equal(snapshots.length, 2);
  const final = snapshots.at(-1)!;
  assert.equal(parseSnapshotName(final.name)?.label, 'complete', final.name);
  assert.equal(final.holds, 1, 'the final snapshot is held');
  assert.match(
    (await zfs(['get', '-H', '-o', 'value', keepReasonProperty, `${dataset}@${final.name}`])).trim(),
    /^decommissioned \d{4}-\d\d-\d\d$/,
  );
  const mark = Date.parse((await zfs(['get', '-H', '-o', 'value', decommissionedProperty, dataset])).trim());
  assert.ok(mark >= before - 1000 && mark <= Date.now(), `mark ${mark}`);

  // Again (a sync re-created the schedule): the schedule goes, no second final snapshot is taken.
  assert.equal((await rig.cli(['sync'])).exitCode, 0);
  const again = await rig.cli(['decommission', '--host', retired]);
  assert.equal(again.exitCode, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /already decommissioned/);
  assert.equal(await scheduleExists(backupScheduleId(retired, rig.server)), false);
  assert.equal((await listSnapshots(dataset)).length, 2);
});

test('status lists the decommissioned dataset and the orphan, each once, with last snapshot and size', async () => {
  const { json } = await status();
  assert.deepEqual(
    json.orphans.map((entry) => [entry.host, entry.server, entry.dataset, entry.lastSnapshot, entry.decommissionedAt]),
    [[ghost, rig.server, `${serverDataset}/${ghost}`, oldSnapshot, null]],
  );
  assert.ok(json.orphans[0]!.bytes > 0 && json.orphans[0]!.lastSnapshotAt !== null);
  assert.deepEqual(
    json.decommissioned.map((entry) => [entry.host, entry.dataset]),
    [[retired, `${serverDataset}/${retired}`]],
  );
  assert.match(json.decommissioned[0]!.lastSnapshot!, /^tidemark-\d{8}T\d{6}Z$/);
  assert.notEqual(json.decommissioned[0]!.lastSnapshot, oldSnapshot, 'the final snapshot is the newest');
  assert.equal(json.pairs.length, 2, 'the inventory still has both hosts');
  const text = await rig.cli(['status']);
  assert.match(
    text.stdout,
    new RegExp(`ORPHANS[^\\n]*\\n.*\\n${ghost}\\s+${rig.server}\\s+${serverDataset}/${ghost}\\s+${oldSnapshot}`),
  );
  assert.match(text.stdout, new RegExp(`DECOMMISSIONED\\n.*\\n${retired}\\s+${rig.server}`));
});

test('--destroy is refused without the confirmation, on an unmarked dataset, within the grace period and while in the inventory; then done', async () => {
  const dataset = `${serverDataset}/${retired}`;
  const noConfirm = await rig.cli(['decommission', '--host', retired, '--destroy']);
  assert.equal(noConfirm.exitCode, 2);
  assert.match(noConfirm.stderr, /add --yes-destroy-all-snapshots/);
  const unmarked = await rig.cli(['decommission', '--host', ghost, '--destroy', '--yes-destroy-all-snapshots']);
  assert.equal(unmarked.exitCode, 2);
  assert.match(
    unmarked.stderr,
    new RegExp(`${serverDataset}/${ghost} is not decommissioned; run "tidemark decommission --host ${ghost}`),
  );
  const early = await rig.cli(['decommission', '--host', retired, '--destroy', '--yes-destroy-all-snapshots']);
  assert.equal(early.exitCode, 2);
  assert.match(
    early.stderr,
    /within the grace period of 30 days; it can be destroyed from \S+ on; nothing was destroyed/,
  );

  // A mark older than the grace period, as if set then.
  await zfs([
    'set',
    `${decommissionedProperty}=${new Date(Date.now() - decommissionGraceMs - 60_000).toISOString()}`,
    dataset,
  ]);
  const listed = await rig.cli(['decommission', '--host', retired, '--destroy', '--yes-destroy-all-snapshots']);
  assert.equal(listed.exitCode, 2);
  assert.match(listed.stderr, new RegExp(`${retired} is still in the inventory for ${rig.server}; remove it`));
  assert.equal((await listSnapshots(dataset)).length, 2, 'every refusal kept everything');

  editInventory(rig, (inventory) => {
    delete inventory.hosts[retired];
  });
  // Orphans and decommissioned datasets are listed but never change the exit code: the one pair is OK.
  const quiet = await status();
  assert.equal(quiet.exitCode, 0, JSON.stringify(quiet.json));
  assert.deepEqual([quiet.json.orphans.length, quiet.json.decommissioned.length], [1, 1]);

  const destroyed = await rig.cli(['decommission', '--host', retired, '--destroy', '--yes-destroy-all-snapshots']);
  assert.equal(destroyed.exitCode, 0, destroyed.stdout + destroyed.stderr);
  assert.match(destroyed.stdout, new RegExp(`destroyed ${dataset} with 2 snapshot\\(s\\)`));
  assert.equal(await datasetInfo(dataset), undefined);
  assert.deepEqual((await status()).json.decommissioned, []);
});
