// `tidemark report --csv`: a month's runs and failures from Temporal, and sizes equal to what `zfs get` says
// about the host's dataset. Real sshd, rsync, zfs-fuse and Temporal.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../devenv/process.js';
import { zfs } from '../pool/zfs.js';
import { backupWithHostDown, createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
before(async () => {
  rig = await createRig('report');
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/big'), Buffer.alloc(300_000, 7));
  await rig.startWorker();
});
after(() => rig.close());

/** The report's CSV as objects keyed by the header. */
async function reportCsv(args: string[] = []): Promise<Array<Record<string, string>>> {
  const run = await rig.cli(['report', '--csv', ...args]);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  const [header, ...lines] = run.stdout.trimEnd().split('\r\n');
  const columns = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((cell, index) => [columns[index]!, cell])));
}

test('report --csv counts the runs and failures and gives the sizes zfs get gives', async () => {
  assert.equal((await rig.cli(['start-backup', '--host', rig.hostName, '--wait'])).exitCode, 0);
  const failed = await backupWithHostDown(rig);
  assert.notEqual(failed.exitCode, 0, 'the run with the host down fails');
  writeFileSync(join(rig.source, 'etc/more'), Buffer.alloc(200_000, 9));
  assert.equal((await rig.cli(['start-backup', '--host', rig.hostName, '--wait'])).exitCode, 0);

  // Visibility is eventually consistent: wait until the three runs are listed, then compare.
  let row: Record<string, string> | undefined;
  await waitFor(
    'three runs in the report',
    async () => {
      row = (await reportCsv()).find((line) => line.host === rig.hostName && line.server === rig.server);
      return row?.runs === '3';
    },
    60_000,
  );
  const [used, referenced] = (await zfs(['get', '-H', '-p', '-o', 'value', 'used,referenced', rig.dataset]))
    .trim()
    .split('\n');
  const snapshots = await rig.snapshots();
  const newest = (
    await zfs(['get', '-H', '-p', '-o', 'value', 'referenced', `${rig.dataset}@${snapshots.at(-1)}`])
  ).trim();
  assert.deepEqual(
    { ...row, lastSuccess: row!.lastSuccess !== '' },
    {
      month: new Date().toISOString().slice(0, 7),
      group: '(none)',
      host: rig.hostName,
      server: rig.server,
      runs: '3',
      failures: '1',
      lastSuccess: true,
      usedBytes: used,
      referencedBytes: referenced,
      snapshots: String(snapshots.length),
      // Every snapshot is from this month: growth is the newest one's referenced bytes.
      growthBytes: newest,
    },
  );

  const past = (await reportCsv(['--month', '2000-01', '--server', rig.server]))[0]!;
  assert.deepEqual([past.runs, past.failures, past.lastSuccess, past.growthBytes], ['0', '0', '', '']);
  // The billing export: the same CSV into a file.
  const exported = join(rig.dir, 'billing.csv');
  const write = await rig.cli(['report', '--csv', '--server', rig.server, '--output', exported]);
  assert.equal(write.exitCode, 0, write.stderr);
  const printed = await rig.cli(['report', '--csv', '--server', rig.server]);
  const file = readFileSync(exported, 'utf8');
  assert.ok(file.endsWith('\r\n'), 'whole CSV lines');
  assert.equal(file.trimEnd(), printed.stdout.trimEnd());
  const bad = await rig.cli(['report', '--month', '2026-13']);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /--month: "2026-13" is not a month/);
});
