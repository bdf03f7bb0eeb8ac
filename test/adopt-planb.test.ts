// A PlanB dataset taken over (each PlanB run writes a file of a new size: rsync then sees the change within
// the same second): made with the zfs commands PlanB's storage/zfs.py runs (`zfs create -o
// canmount=noauto` for each part, files rsynced into data/, `zfs snapshot` with each naming scheme), then
// `adopt-dataset --from --planb`, a backup into it, retention (keep snapshots untouched), files, history and a
// restore from an adopted snapshot. Real sshd, rsync, zfs-fuse and Temporal.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { zfs } from '../pool/zfs.js';
import type { FilesReport, HistoryReport } from '../client/browse.js';
import type { SnapshotReport } from '../pool/snapshot-report.js';
import { createRig, destroyWhenIdle, testServices, type Rig } from './helpers/rig.js';

let rig: Rig;
/** PlanB's POOLNAME (a dataset of the test pool) and its dataset `<pool>/<group>-<name>`. */
let planbPool: string;
let planbDataset: string;
const file = () => join(rig.source, 'etc/app.conf');

/** PlanB's run: mount, rsync into data/, unmount, snapshot (storage/zfs.py's begin_work/end_work order). */
async function planbRun(content: string, snapshots: string[]): Promise<void> {
  writeFileSync(file(), content);
  await zfs(['mount', planbDataset]).catch(() => undefined);
  const mountpoint = (await zfs(['get', '-H', '-o', 'value', 'mountpoint', planbDataset])).trim();
  await execa('rsync', [
    '--delete',
    '--recursive',
    '--links',
    '--perms',
    '--times',
    '--relative',
    `${rig.source}/`,
    `${mountpoint}/data/`,
  ]);
  await zfs(['unmount', planbDataset]);
  for (const name of snapshots) await zfs(['snapshot', `${planbDataset}@${name}`]);
}

before(async () => {
  rig = await createRig('adoptplanb', {
    server: { adopt: { planb: true } },
    host: { retention: { daily: 2 } },
  });
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  planbPool = `${testServices().pool}/planb-${rig.dir
    .slice(-6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`;
  planbDataset = `${planbPool}/acme-${rig.hostName}`;
  // ZfsStorage.zfs_create: each missing part with canmount=noauto; ensure_exists then makes data/ (0700).
  await zfs(['create', '-o', 'canmount=noauto', planbPool]);
  await zfs(['create', '-o', 'canmount=noauto', planbDataset]);
  await zfs(['mount', planbDataset]);
  const mountpoint = (await zfs(['get', '-H', '-o', 'value', 'mountpoint', planbDataset])).trim();
  mkdirSync(join(mountpoint, 'data'), { mode: 0o700 });
  await zfs(['unmount', planbDataset]);
  // Older pools' class names, then today's planb- names and a "keep" snapshot (`planb snapshot --custom`).
  await planbRun('v1\n', ['daily-201706031147', 'weekly-201706041147']);
  await planbRun('v22\n', ['planb-20251130T0300Z', 'before-upgrade-20251130T1200Z']);
  await planbRun('v333\n', ['planb-20251201T0300Z']);
  await rig.startWorker();
});
after(async () => {
  await rig.close();
  await destroyWhenIdle(planbPool).catch(() => undefined);
});

test('a PlanB dataset is adopted, backed up into, pruned (keep snapshots untouched), browsed and restored', async () => {
  const adopted = await rig.cli(['adopt-dataset', '--host', rig.hostName, '--from', planbDataset, '--planb']);
  assert.equal(adopted.exitCode, 0, adopted.stdout + adopted.stderr);
  assert.match(adopted.stdout, /5 snapshots read from their data\/ directory/);
  const listing = JSON.parse((await rig.cli(['snapshots', '--host', rig.hostName, '--json'])).stdout) as SnapshotReport;
  const as = Object.fromEntries(listing.snapshots.map((row) => [row.name, `${row.kind} ${row.adoptedAs}`]));
  assert.deepEqual(as, {
    'daily-201706031147': 'complete PlanB daily',
    'weekly-201706041147': 'complete PlanB weekly',
    'planb-20251130T0300Z': 'complete PlanB run',
    'before-upgrade-20251130T1200Z': 'foreign PlanB keep',
    'planb-20251201T0300Z': 'complete PlanB run',
  });
  assert.equal(
    readFileSync(join(await rig.copyPath(), file()), 'utf8'),
    'v333\n',
    'the live files moved up to the root',
  );

  writeFileSync(file(), 'v4444\n');
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  // daily 2: today's own snapshot and 2025-12-01's PlanB run; the older adopted ones go, the keep one stays.
  const names = await rig.snapshots();
  assert.deepEqual(
    names.filter((name) => !name.startsWith('tidemark-')),
    ['before-upgrade-20251130T1200Z', 'planb-20251201T0300Z'],
  );
  const prune = await rig.cli(['prune', '--host', rig.hostName]);
  assert.equal(prune.exitCode, 0, prune.stdout + prune.stderr);
  assert.ok((await rig.snapshots()).includes('before-upgrade-20251130T1200Z'), 'prune never rotates a keep snapshot');

  const files = await rig.cli([
    'files',
    '--host',
    rig.hostName,
    '--snapshot',
    'before-upgrade-20251130T1200Z',
    join(rig.source, 'etc'),
    '--json',
  ]);
  assert.equal(files.exitCode, 0, files.stderr);
  assert.deepEqual(
    (JSON.parse(files.stdout) as FilesReport).entries.map((entry) => entry.name),
    ['app.conf'],
  );
  const history = await rig.cli(['history', '--host', rig.hostName, file(), '--json']);
  assert.equal(history.exitCode, 0, history.stderr);
  const report = JSON.parse(history.stdout) as HistoryReport;
  assert.deepEqual(report.absentFrom, [], 'found in the adopted (data/) and the new (root) snapshots alike');
  assert.deepEqual(
    report.snapshots.map((entry) => [entry.snapshot, entry.size]),
    [
      ['before-upgrade-20251130T1200Z', 4],
      ['planb-20251201T0300Z', 5],
      [names.at(-1), 6],
    ],
  );

  const out = await mkdtemp(join(rig.dir, 'out-'));
  const restore = await rig.cli([
    'restore',
    '--host',
    rig.hostName,
    '--snapshot',
    'planb-20251201T0300Z',
    '--to',
    out,
    '--wait',
  ]);
  assert.equal(restore.exitCode, 0, restore.stdout + restore.stderr);
  assert.equal(
    readFileSync(join(out, file()), 'utf8'),
    'v333\n',
    "the adopted snapshot's data/ tree, at its own paths",
  );
});
