// Restore drills: `tidemark verify` proves an intact copy, names a file whose copy differs from the host's,
// and skips files the host changed since the snapshot. Real sshd, rsync, zfs-fuse and Temporal.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { lstat, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { VerifyReport } from '../client/verify.js';
import { snapshotName } from '../domain/names.js';
import { zfs } from '../pool/zfs.js';
import { createRig, type Rig } from './helpers/rig.js';
import { buildSampleTree, describeTree } from './helpers/tree.js';

let rig: Rig;
/** A name a shell would choke on (quote, newline, command substitution): verified like any other only
 * because names reach the host on stdin, never in the command line. */
const hostileName = `it's\n"odd"; $(touch pwned).txt`;

before(async () => {
  rig = await createRig('verify');
  await buildSampleTree(rig.source);
  writeFileSync(join(rig.source, hostileName), 'hostile name\n');
  await rig.startWorker();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
});
after(async () => {
  await rig?.close();
});

async function verify(args: string[]): Promise<{ exitCode: number; report: VerifyReport; stderr: string }> {
  const run = await rig.cli(['verify', '--host', rig.hostName, ...args, '--json']);
  return { exitCode: run.exitCode, report: JSON.parse(run.stdout || '{}') as VerifyReport, stderr: run.stderr };
}

test('an intact copy: every sampled file verified, none mismatched or skipped', async () => {
  const regular = Object.values((await describeTree(rig.source)).entries).filter(
    (entry) => entry.type === 'file',
  ).length;
  const all = await verify(['--sample', '1000']);
  assert.equal(all.exitCode, 0, all.stderr);
  assert.equal(all.report.snapshot, (await rig.snapshots()).at(-1));
  assert.equal(all.report.regularFiles, regular);
  assert.equal(all.report.sampled, regular);
  assert.deepEqual(
    [all.report.verified, all.report.mismatched, all.report.skipped],
    [regular, 0, 0],
    JSON.stringify(all.report),
  );
  // And every sampled file came back out of the snapshot, identical, through a scratch directory.
  assert.deepEqual(all.report.restoreCheck, { identical: regular, differing: [] });

  const some = await verify(['--sample', '3']);
  assert.equal(some.exitCode, 0, some.stderr);
  assert.deepEqual([some.report.sampled, some.report.verified], [3, 3]);
});

test('a byte flipped in the copy is a mismatch naming the file; a file changed on the host since is skipped', async () => {
  // A snapshot cannot be written: flip the byte in the live copy (keeping size and mtime, as silent
  // corruption would) and take a snapshot named like a complete Tidemark one, so it is the newest.
  const copy = join(await rig.copyPath(), rig.source, hostileName);
  const before = await lstat(copy);
  const bytes = await readFile(copy);
  bytes[0] = bytes[0]! ^ 0x01;
  await writeFile(copy, bytes);
  await utimes(copy, before.atime, before.mtime);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const flipped = snapshotName(new Date());
  await zfs(['snapshot', `${rig.dataset}@${flipped}`]);
  // On the host, config.ini changed after the snapshot (other size): not comparable, so not a mismatch.
  writeFileSync(join(rig.source, 'etc/app/config.ini'), '[main]\nanswer = 4242\n');

  const run = await verify(['--sample', '1000']);
  assert.equal(run.exitCode, 1, run.stderr);
  assert.equal(run.report.snapshot, flipped);
  assert.equal(run.report.mismatched, 1);
  assert.equal(run.report.mismatches[0]!.path, join(rig.source, hostileName));
  assert.notEqual(run.report.mismatches[0]!.snapshotSha256, run.report.mismatches[0]!.hostSha256);
  assert.deepEqual(run.report.skippedFiles, [
    { path: join(rig.source, 'etc/app/config.ini'), reason: 'changed on the host since the snapshot' },
  ]);
  assert.equal(run.report.verified, run.report.sampled - 2);

  const text = await rig.cli(['verify', '--host', rig.hostName, '--sample', '1000']);
  assert.equal(text.exitCode, 1);
  assert.ok(text.stdout.includes(`MISMATCH: ${JSON.stringify(join(rig.source, hostileName))}`), text.stdout);
  assert.match(text.stdout, /mismatched 1, skipped 1 \(1 changed on the host since the snapshot\)/);
  // The flipped copy restores faithfully (it is the snapshot that is wrong, not the way back).
  assert.match(
    text.stdout,
    /^restored the sample into a scratch directory: \d+ identical to the snapshot, 0 differing$/m,
  );
});

test('--sample must be a positive number of files', async () => {
  const run = await rig.cli(['verify', '--host', rig.hostName, '--sample', '0']);
  assert.equal(run.exitCode, 2);
  assert.match(run.stderr, /--sample: "0" is not a number of files from 1 to 100000; give e\.g\. --sample 200/);
});
