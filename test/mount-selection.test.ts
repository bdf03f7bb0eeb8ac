// A host's long mount table is selected off the event loop with the same answer as in place: the
// worker's other activities keep heartbeating (issue 20: 8,000 lines took 4.4 s on the event loop; the
// times are in bench/mount-table-bench.ts and results/mount-table-*.json, not asserted here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectHostMounts } from '../activities/mount-selection.js';
import { mountTableLineCap, selectFromMountTable } from '../domain/mounts.js';

const options = { root: '/', includeNetworkMounts: false, extraTypes: ['fuse.mergerfs'] };

/** Local disks, tmpfs with disks beneath, over-mounts and bind mounts, `lines` long. */
function hostileTable(lines: number): string {
  const rows = ['/dev/sda1 / ext4 rw 0 0'];
  for (let i = 1; i < lines; i++) {
    const name = i.toString(36);
    rows.push(
      [
        `/dev/sd${name} /srv/${name} ext4 rw 0 0`,
        `tmpfs /run/${name} tmpfs rw 0 0`,
        `/dev/sd${name} /run/${(i - 1).toString(36)}/disk xfs rw 0 0`,
        `/dev/sdz /srv ext4 rw 0 0`,
        `/dev/sda1 /srv/${(i - 4).toString(36)}/bind ext4 rw 0 0`,
        `pool /mnt/${name} fuse.mergerfs rw 0 0`,
      ][i % 6]!,
    );
  }
  return rows.join('\n');
}

test('200,000 mount lines: the thread answers as the event loop would, keeping 20 skipped and their count', async () => {
  const table = hostileTable(200_000);
  const inThread = await selectHostMounts(table, options, 20);
  const inPlace = selectFromMountTable(table, options, 20);
  assert.deepEqual(inThread, inPlace);
  assert.equal(inThread.skipped.length, 20);
  assert.ok(inThread.skippedCount > 60_000, `${inThread.skippedCount} skipped`);
  assert.ok(inThread.paths.includes('/mnt/5'), 'an extra type is selected');
  assert.ok(!inThread.paths.some((path) => path.startsWith('/run/')), 'nothing under a skipped tmpfs');
});

test('the event loop keeps turning while a long table is selected', async () => {
  const table = hostileTable(200_000);
  let turns = 0;
  const ticker = setInterval(() => (turns += 1), 1);
  try {
    await selectHostMounts(table, options, 20);
  } finally {
    clearInterval(ticker);
  }
  assert.ok(turns > 0, 'timers fired during the selection');
});

test('lines past the cap are never read', async () => {
  const table = `${hostileTable(mountTableLineCap)}\n/dev/sdq /past/the/cap ext4 rw 0 0`;
  const selected = await selectHostMounts(table, options, 20);
  assert.ok(!selected.paths.includes('/past/the/cap'));
});
