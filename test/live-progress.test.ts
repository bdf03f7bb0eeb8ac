// Live progress: `start-backup --wait` and `restore --wait`, writing to a log (not a terminal), show the copy's
// files, bytes, rate and percentage while data moves, line after line, not only elapsed time until the end
// (the transfer worker sends its heartbeat figures every second; the watcher reads them from Temporal). The
// copy is slowed with --bwlimit so that it lasts several seconds. No timing assertion: the number of distinct
// progress lines and their growing figures are what is checked; the cadence is measured by bench:progress.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
/** About 8 s of copying at 2 MB/s. */
const sizeMiB = 16;

before(async () => {
  rig = await createRig('progress', {
    host: {
      transfer: { heartbeatTimeout: '10s', retryInterval: '1s', attempts: 3, ioTimeout: '30s', bandwidthLimit: '2M' },
    },
  });
  await mkdir(rig.source, { recursive: true });
  for (let index = 0; index < 4; index++)
    await writeFile(join(rig.source, `part-${index}.bin`), randomBytes((sizeMiB / 4) * 1024 * 1024));
  await rig.startWorker();
});
after(async () => {
  await rig?.close();
});

/** The progress lines of a --wait run's stderr: percentage, bytes, files and rate. */
function progressLines(stderr: string): Array<{ percent: number; bytes: string; files: number; rate: string }> {
  return [...stderr.matchAll(/· (\d+)% ([\d.]+ ?[KMGT]?i?B?), (\d+) files, (\S+\/s)/g)].map((match) => ({
    percent: Number(match[1]),
    bytes: match[2]!,
    files: Number(match[3]),
    rate: match[4]!,
  }));
}

function assertLive(stderr: string): void {
  const lines = progressLines(stderr);
  // An 8 s copy at one line a second while data moves: several distinct lines, figures growing, a rate in each.
  const distinct = new Set(lines.map((line) => `${line.percent} ${line.bytes}`));
  assert.ok(distinct.size >= 3, `expected at least 3 distinct progress lines, got:\n${stderr}`);
  const percents = lines.map((line) => line.percent);
  assert.deepEqual(
    percents,
    [...percents].sort((a, b) => a - b),
    `percentages never go back:\n${stderr}`,
  );
  assert.ok(
    percents.some((percent) => percent > 0 && percent < 100),
    `a line mid-copy:\n${stderr}`,
  );
}

test('start-backup --wait to a log prints files, bytes, rate and percentage while the data moves', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait'], { timeoutMs: 180_000 });
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  assertLive(run.stderr);
});

test('restore --wait to a log prints the same while the data moves', async () => {
  const out = await mkdtemp(join(rig.dir, 'out-'));
  const run = await rig.cli(['restore', '--host', rig.hostName, '--to', out, '--bwlimit', '2M', '--wait'], {
    timeoutMs: 180_000,
  });
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  assertLive(run.stderr);
});
