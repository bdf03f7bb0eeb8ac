// Retention end to end, after real backups (zfs-fuse, Temporal, worker and CLI subprocesses).
// Snapshots with old Tidemark, SOWN and PlanB names are made directly with zfs; the expected survivors
// are worked out by hand below, not by calling the planner under test.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { defaultPayloadConverter } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { destroyPlanned } from '../pool/prune.js';
import { zfs } from '../pool/zfs.js';
import type { BackupSummary } from '../domain/backup.js';
import { backupWorkflowId, parseSnapshotName } from '../domain/names.js';
import type { RetentionPlan } from '../domain/retention.js';
import type { PruneReport } from '../client/prune.js';
import type { SnapshotReport } from '../pool/snapshot-report.js';
import { workflowBundlePath } from '../worker/bundle.js';
import { editInventory } from './helpers/inventory-edit.js';
import { backupWithHostDown, createRig, testServices, type Rig } from './helpers/rig.js';

// The host's `timezone` sets retention's zone too (one spelling since issue 24; retention.timeZone is deprecated).
const counts = { daily: 3, weekly: 2, monthly: 3, yearly: 3 };
const policy = { ...counts, timeZone: 'Europe/Amsterdam' };

/** Runs `start-backup --wait` and returns the new Tidemark snapshot and the run's summary. */
async function backup(
  rig: Rig,
  extra: string[] = [],
): Promise<{ snapshot: string; summary: BackupSummary; stdout: string }> {
  const before = new Set(await rig.snapshots());
  // Snapshot names have one-second resolution.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait', ...extra]);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  const summary = (await rig.client.workflow
    .getHandle(backupWorkflowId(rig.hostName, rig.server))
    .result()) as BackupSummary;
  const snapshot = summary.snapshot!.split('@')[1]!;
  assert.ok(parseSnapshotName(snapshot) && !before.has(snapshot), `a new Tidemark snapshot: ${snapshot}`);
  return { snapshot, summary, stdout: run.stdout };
}

async function makeSnapshots(rig: Rig, names: string[]): Promise<void> {
  for (const name of names) await zfs(['snapshot', `${rig.dataset}@${name}`]);
}

function sorted(names: Iterable<string>): string[] {
  return [...names].sort();
}

async function cliJson<T>(rig: Rig, args: string[], expectedExit = 0): Promise<T> {
  const run = await rig.cli(args);
  assert.equal(run.exitCode, expectedExit, run.stdout + run.stderr);
  return JSON.parse(run.stdout) as T;
}

describe('retention after backups', () => {
  let rig: Rig;
  const otherHold = 'test-hold';
  const held = 'tidemark-20250615T020000Z';

  before(async () => {
    rig = await createRig('retention', { host: { retention: counts, timezone: 'Europe/Amsterdam' } });
    mkdirSync(join(rig.source, 'etc'), { recursive: true });
    writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
    await rig.startWorker();
  });
  after(async () => {
    await zfs(['release', otherHold, `${rig.dataset}@${held}`]).catch(() => undefined);
    await rig.close();
  });

  test('a successful backup destroys exactly the planned snapshots; hand-made, foreign and held ones stay', async () => {
    const first = await backup(rig);
    // Destroyed by the policy (daily 3, weekly 2, monthly 3, yearly 3 in Europe/Amsterdam):
    const doomed = [
      'tidemark-20240615T020000Z',
      'tidemark-20241231T233000Z', // 00:30 on 1 January 2025 in Amsterdam: not 2024's newest
      'tidemark-20250110T020000Z',
      'tidemark-20250301T020000Z',
      'tidemark-20250302T020000Z',
      'tidemark-20250701T020000Z-partial', // older than the newest complete
      'tidemark-20251001T020000Z',
      'tidemark-20251101T020000Z',
    ];
    const kept = [
      'tidemark-20241231T220000Z', // yearly 2024 (23:00 on 31 December in Amsterdam)
      'tidemark-20251015T020000Z', // monthly 2025-10
      'tidemark-20251102T020000Z', // daily
      'tidemark-20251103T020000Z', // daily, weekly, monthly 2025-11, yearly 2025
      held, // held by someone else
      'manual-before-upgrade', // hand-made
      'tidemark-20250230T020000Z', // not a real date: foreign
      'backup-daily-2025-05-01', // SOWN name, adoption off: foreign
    ];
    await makeSnapshots(rig, [...doomed, ...kept]);
    await zfs(['hold', otherHold, `${rig.dataset}@${held}`]);

    const second = await backup(rig);
    // The first backup's snapshot is from the same day as the second: the daily rule keeps only the newer.
    const pruned = [...doomed, first.snapshot];
    assert.deepEqual(sorted(await rig.snapshots()), sorted([...kept, second.snapshot]));
    assert.deepEqual(sorted(second.summary.pruned ?? []), sorted(pruned));
    assert.equal(second.summary.status, 'SUCCESS');
    assert.match(
      second.stdout,
      new RegExp(
        `SUCCESS: .*snapshot \\S+@${second.snapshot}; pruned ${pruned.length} snapshots, ${kept.length + 1} kept`,
      ),
    );

    // The plan, with the rule keeping each snapshot, is in the run's history (the snapshot step's result).
    const history = await rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server)).fetchHistory();
    const scheduled = history.events!.find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'snapshotAndPrune',
    );
    const completed = history.events!.find(
      (event) => String(event.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled?.eventId),
    );
    const input = defaultPayloadConverter.fromPayload<{ retention: { plan: RetentionPlan } }>(
      completed!.activityTaskCompletedEventAttributes!.result!.payloads![0]!,
    ).retention;
    const reasons = new Map(input.plan.verdicts.map((verdict) => [verdict.name, verdict.reasons]));
    assert.deepEqual(reasons.get('tidemark-20241231T220000Z'), ['yearly 2024']);
    assert.deepEqual(reasons.get('tidemark-20251015T020000Z'), ['monthly 2025-10']);
    assert.deepEqual(reasons.get(held), ['held']);
    assert.deepEqual(reasons.get('manual-before-upgrade'), ['foreign']);
    assert.ok(reasons.get(second.snapshot)!.includes('newest complete'));
    assert.deepEqual(sorted(input.plan.destroy), sorted(pruned));
    // Planning in workflow code (Intl time zones included) replays deterministically.
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: workflowBundlePath } },
      history,
      backupWorkflowId(rig.hostName, rig.server),
    );
  });

  test('a failed backup (sshd down) prunes nothing', async () => {
    await makeSnapshots(rig, ['tidemark-20230101T020000Z']);
    const before = await rig.snapshots();
    const failed = await backupWithHostDown(rig);
    assert.equal(failed.exitCode, 1, failed.stdout + failed.stderr);
    assert.match(failed.stderr, /FAILED: .*failed during [\w-]+: .*Connection refused/);
    assert.deepEqual(await rig.snapshots(), before);
  });

  test('snapshots --json and prune --dry-run --json report kinds and rules; prune --json destroys the plan', async () => {
    const listing = await cliJson<SnapshotReport>(rig, ['snapshots', '--host', rig.hostName, '--json']);
    assert.equal(listing.dataset, rig.dataset);
    assert.deepEqual(listing.policy, policy);
    assert.deepEqual(sorted(listing.snapshots.map((row) => row.name)), sorted(await rig.snapshots()));
    const row = (name: string) => listing.snapshots.find((entry) => entry.name === name)!;
    assert.deepEqual(
      { kind: row(held).kind, keep: row(held).keep, holds: row(held).holds, keepReason: row(held).keepReason },
      { kind: 'held', keep: true, holds: 1, keepReason: null },
    );
    assert.deepEqual(
      { kind: row('manual-before-upgrade').kind, reasons: row('manual-before-upgrade').reasons },
      { kind: 'foreign', reasons: ['foreign'] },
    );
    assert.deepEqual(
      { kind: row('tidemark-20251015T020000Z').kind, reasons: row('tidemark-20251015T020000Z').reasons },
      { kind: 'complete', reasons: ['monthly 2025-10'] },
    );
    assert.equal(row('tidemark-20230101T020000Z').keep, false, 'left by the failed backup: the next prune takes it');
    assert.equal(row('tidemark-20230101T020000Z').takenAt, '2023-01-01T02:00:00.000Z');
    assert.ok(listing.snapshots.every((entry) => typeof entry.used === 'number' && entry.createdAt.endsWith('Z')));

    const before = await rig.snapshots();
    const dryRun = await cliJson<PruneReport>(rig, ['prune', '--host', rig.hostName, '--dry-run', '--json']);
    assert.equal(dryRun.dryRun, true);
    assert.deepEqual(dryRun.destroy, ['tidemark-20230101T020000Z']);
    assert.equal(dryRun.result, undefined);
    assert.deepEqual(await rig.snapshots(), before, 'a dry run destroys nothing');

    const human = await rig.cli(['prune', '--host', rig.hostName, '--dry-run']);
    assert.equal(human.exitCode, 0);
    assert.match(
      human.stdout,
      /tidemark-20230101T020000Z +2023-01-01 03:00 .* complete +— \(pruned by the next prune\)/,
    );
    assert.match(human.stdout, /dry run: would destroy 1 of \d+ snapshots: tidemark-20230101T020000Z/);

    const pruned = await cliJson<PruneReport>(rig, ['prune', '--host', rig.hostName, '--json']);
    assert.deepEqual(pruned.result, { destroyed: ['tidemark-20230101T020000Z'], alreadyGone: [], refused: [] });
    assert.deepEqual(
      await rig.snapshots(),
      before.filter((name) => name !== 'tidemark-20230101T020000Z'),
    );
    const again = await cliJson<PruneReport>(rig, ['prune', '--host', rig.hostName, '--json']);
    assert.deepEqual(again.destroy, []);
  });

  test('--keep holds the new snapshot through later prunes until release; then retention takes it', async () => {
    const kept = await backup(rig, ['--keep', 'before upgrade']);
    assert.equal(
      (await zfs(['get', '-H', '-p', '-o', 'value', 'userrefs', `${rig.dataset}@${kept.snapshot}`])).trim(),
      '1',
    );
    const later = await backup(rig);
    // Same day as `later`: only the hold keeps it.
    const listing = await cliJson<SnapshotReport>(rig, ['snapshots', '--host', rig.hostName, '--json']);
    const row = listing.snapshots.find((entry) => entry.name === kept.snapshot);
    assert.deepEqual(
      { kind: row?.kind, keep: row?.keep, reasons: row?.reasons, keepReason: row?.keepReason, holds: row?.holds },
      { kind: 'held', keep: true, reasons: ['held'], keepReason: 'before upgrade', holds: 1 },
    );
    assert.ok(!(later.summary.pruned ?? []).includes(kept.snapshot));
    const human = await rig.cli(['snapshots', '--host', rig.hostName]);
    assert.match(human.stdout, new RegExp(`${kept.snapshot} .* held +held \\("before upgrade"\\)`));

    const release = () =>
      cliJson<Record<string, unknown>>(rig, ['release', '--host', rig.hostName, '--snapshot', kept.snapshot, '--json']);
    const released = await release();
    assert.deepEqual(released, {
      host: rig.hostName,
      server: rig.server,
      snapshot: `${rig.dataset}@${kept.snapshot}`,
      released: true,
      reason: 'before upgrade',
      holdsLeft: 0,
    });
    const twice = await release();
    assert.equal(twice.released, false, 'releasing again is harmless');
    const missing = await rig.cli(['release', '--host', rig.hostName, '--snapshot', 'tidemark-20000101T000000Z']);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /--snapshot: \S+ has no snapshot "tidemark-20000101T000000Z"/);

    const after = await cliJson<SnapshotReport>(rig, ['snapshots', '--host', rig.hostName, '--json']);
    const releasedRow = after.snapshots.find((entry) => entry.name === kept.snapshot)!;
    assert.deepEqual(
      { kind: releasedRow.kind, keep: releasedRow.keep, keepReason: releasedRow.keepReason, holds: releasedRow.holds },
      { kind: 'complete', keep: false, keepReason: null, holds: 0 },
    );
    const pruned = await cliJson<PruneReport>(rig, ['prune', '--host', rig.hostName, '--json']);
    assert.deepEqual(pruned.result?.destroyed, [kept.snapshot]);
  });

  test('an unusable --keep reason is refused before anything starts', async () => {
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--keep', '']);
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /--keep: give a reason/);
  });

  test('a run that a failed host hook makes FAILED (copied and snapshotted anyway) prunes nothing', async () => {
    const hooksDir = join(rig.dir, 'backup-scripts');
    mkdirSync(hooksDir, { recursive: true });
    writeFileSync(join(hooksDir, '20-dump-db'), '#!/bin/sh\necho "pg_dump failed" >&2\nexit 3\n', { mode: 0o755 });
    editInventory(rig, (inventory) => (inventory.hosts[rig.hostName].hooks = { dir: hooksDir, timeout: '20s' }));
    await makeSnapshots(rig, ['tidemark-20230101T020000Z']);
    const before = await rig.snapshots();
    try {
      const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
      assert.equal(run.exitCode, 1, run.stdout + run.stderr);
      const summary = (await rig.client.workflow
        .getHandle(backupWorkflowId(rig.hostName, rig.server))
        .result()) as BackupSummary;
      assert.equal(summary.status, 'FAILED');
      assert.equal(summary.pruned, undefined);
      const taken = summary.snapshot!.split('@')[1]!;
      assert.deepEqual(
        sorted(await rig.snapshots()),
        sorted([...before, taken]),
        'the new snapshot is added, nothing is pruned',
      );
    } finally {
      editInventory(rig, (inventory) => delete inventory.hosts[rig.hostName].hooks);
    }
  });
});

describe('adopting SOWN and PlanB snapshots', () => {
  let rig: Rig;
  const day = (month: number, date: number) =>
    `2025-${String(month).padStart(2, '0')}-${String(date).padStart(2, '0')}`;
  const sown = (month: number, date: number) => `backup-daily-${day(month, date)}`;
  const planb = (month: number, date: number) => `planb-${day(month, date).replace(/-/g, '')}T0300Z`;
  /** The host moved from SOWN (January to June 2025) to PlanB (July to December), one snapshot a day. */
  const inherited: string[] = [];
  for (let time = Date.UTC(2025, 0, 1); time < Date.UTC(2026, 0, 1); time += 86_400_000) {
    const date = new Date(time);
    inherited.push((date.getUTCMonth() < 6 ? sown : planb)(date.getUTCMonth() + 1, date.getUTCDate()));
  }

  function setAdopt(adopt: { sown?: boolean; planb?: boolean }) {
    editInventory(rig, (inventory) => (inventory.servers[rig.server].adopt = adopt));
  }

  before(async () => {
    // No retention in the inventory: the default counts (daily 7, weekly 4, monthly 12, yearly 3), here in
    // Amsterdam time (with the server's own zone, UTC on a test machine, the expectations below also hold).
    // retention: {} replaces the rig's keepWithin with the default counts.
    rig = await createRig('adopt', { host: { timezone: 'Europe/Amsterdam', retention: {} } });
    mkdirSync(join(rig.source, 'etc'), { recursive: true });
    writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
    await rig.startWorker();
  });
  after(() => rig.close());

  test('left alone while adoption is off, rotated by the policy once it is on (per system)', async () => {
    const first = await backup(rig);
    await makeSnapshots(rig, inherited);
    assert.equal(inherited.length, 365);

    const off = await backup(rig);
    assert.deepEqual(
      sorted(await rig.snapshots()),
      sorted([...inherited, off.snapshot]),
      'not adopted: foreign, untouched',
    );
    assert.deepEqual(off.summary.pruned, [first.snapshot]);

    // SOWN only: its snapshots are complete copies (taken at local midnight of the named date); PlanB's stay foreign.
    setAdopt({ sown: true });
    const sownOnly = await backup(rig);
    const sownKept = [
      ...[25, 26, 27, 28, 29, 30].map((date) => sown(6, date)), // daily (with today's backup: 7)
      sown(6, 22), // weekly: Jun 30 (Mon) is its own week, Jun 23-29 ends on the 29th, Jun 16-22 on the 22nd
      sown(5, 31),
      sown(4, 30),
      sown(3, 31),
      sown(2, 28),
      sown(1, 31), // monthly (Jun 30 already kept)
    ];
    const planbAll = inherited.filter((name) => name.startsWith('planb-'));
    assert.deepEqual(sorted(await rig.snapshots()), sorted([...sownKept, ...planbAll, sownOnly.snapshot]));
    assert.equal(sownOnly.summary.pruned!.length, 181 - sownKept.length + 1);

    setAdopt({ sown: true, planb: true });
    const both = await backup(rig);
    const expected = [
      ...[26, 27, 28, 29, 30, 31].map((date) => planb(12, date)), // daily
      planb(12, 21), // weekly: weeks ending Dec 31 (kept), Dec 28 (kept), Dec 21
      planb(11, 30),
      planb(10, 31),
      planb(9, 30),
      planb(8, 31),
      planb(7, 31), // monthly, with Dec 31 (yearly 2025 too)
      sown(6, 30),
      sown(5, 31),
      sown(4, 30),
      sown(3, 31),
      sown(2, 28), // monthly: 11 months back from December
      both.snapshot,
    ];
    assert.deepEqual(sorted(await rig.snapshots()), sorted(expected));
    assert.equal(both.summary.pruned!.length, sownKept.length + planbAll.length + 1 - (expected.length - 1));
    assert.match(both.stdout, new RegExp(`pruned ${both.summary.pruned!.length} snapshots, ${expected.length} kept`));

    // The listing agrees, rule by rule.
    const listing = await cliJson<SnapshotReport>(rig, ['snapshots', '--host', rig.hostName, '--json']);
    const reasons = new Map(listing.snapshots.map((row) => [row.name, row.reasons]));
    assert.deepEqual(listing.adopt, { sown: true, planb: true });
    assert.deepEqual(reasons.get(sown(2, 28)), ['monthly 2025-02']);
    assert.deepEqual(reasons.get(planb(12, 21)), ['weekly 2025-W51']);
    assert.ok(listing.snapshots.every((row) => row.kind === 'complete' && row.keep));
    assert.equal(
      listing.snapshots.find((row) => row.name === sown(2, 28))!.takenAt,
      '2025-02-27T23:00:00.000Z',
      'SOWN: local midnight of the named date',
    );
  });
});

describe('the prune step', () => {
  let dataset: string;
  const hold = 'test-hold';
  const held = 'tidemark-20250201T020000Z';
  before(async () => {
    dataset = `${testServices().pool}/prune-safety-${process.pid}`;
    await zfs(['create', '-p', dataset]);
    for (const name of [
      'tidemark-20250101T020000Z',
      held,
      'tidemark-20250301T020000Z-partial',
      'tidemark-20250401T020000Z',
      'tidemark-20250501T020000Z',
      'tidemark-20250601T020000Z-partial',
      'handmade',
    ]) {
      await zfs(['snapshot', `${dataset}@${name}`]);
    }
  });
  after(async () => {
    await zfs(['release', hold, `${dataset}@${held}`]).catch(() => undefined);
    await zfs(['destroy', '-r', '-f', dataset]).catch(() => undefined);
  });
  const safety = { timeZone: 'Europe/Amsterdam', backupSucceeded: true };
  const names = async () =>
    (await zfs(['list', '-H', '-t', 'snapshot', '-o', 'name', '-r', '-d', '1', dataset]))
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('@')[1]!);

  test('destroys only what a fresh check allows, whatever the plan says, and is idempotent', async () => {
    // A stale or wrong plan: a snapshot held since planning, the newest complete, a newer partial, a foreign one, one already gone.
    await zfs(['hold', hold, `${dataset}@${held}`]);
    const destroy = [
      'tidemark-20240101T020000Z',
      'tidemark-20250101T020000Z',
      held,
      'tidemark-20250301T020000Z-partial',
      'handmade',
      'tidemark-20250601T020000Z-partial',
      'tidemark-20250501T020000Z',
    ];
    const refused = [
      { name: held, reasons: ['held'] },
      { name: 'handmade', reasons: ['foreign'] },
      { name: 'tidemark-20250601T020000Z-partial', reasons: ['partial newer than newest complete'] },
      { name: 'tidemark-20250501T020000Z', reasons: ['newest complete'] },
    ];
    const first = await destroyPlanned({ dataset, plan: { verdicts: [], destroy }, safety });
    assert.deepEqual(first, {
      destroyed: ['tidemark-20250101T020000Z', 'tidemark-20250301T020000Z-partial'],
      alreadyGone: ['tidemark-20240101T020000Z'],
      refused,
    });
    assert.deepEqual(
      sorted(await names()),
      sorted([
        held,
        'tidemark-20250401T020000Z',
        'tidemark-20250501T020000Z',
        'tidemark-20250601T020000Z-partial',
        'handmade',
      ]),
    );
    const retried = await destroyPlanned({ dataset, plan: { verdicts: [], destroy }, safety });
    assert.deepEqual(retried, {
      destroyed: [],
      alreadyGone: ['tidemark-20240101T020000Z', 'tidemark-20250101T020000Z', 'tidemark-20250301T020000Z-partial'],
      refused,
    });
  });

  test('nothing goes when the backup did not succeed', async () => {
    const result = await destroyPlanned({
      dataset,
      plan: { verdicts: [], destroy: ['tidemark-20250401T020000Z'] },
      safety: { ...safety, backupSucceeded: false },
    });
    assert.deepEqual(result, {
      destroyed: [],
      alreadyGone: [],
      refused: [{ name: 'tidemark-20250401T020000Z', reasons: ['backup did not succeed'] }],
    });
  });

  test('a snapshot that becomes the newest complete while pruning (the newer one vanished) is kept', async () => {
    const result = await destroyPlanned(
      { dataset, plan: { verdicts: [], destroy: ['tidemark-20250401T020000Z'] }, safety },
      (done) => {
        // Someone destroys the newest complete snapshot after the prune step's first listing.
        if (done === 0) execFileSync('zfs', ['destroy', `${dataset}@tidemark-20250501T020000Z`]);
      },
    );
    assert.deepEqual(result.refused, [{ name: 'tidemark-20250401T020000Z', reasons: ['newest complete'] }]);
    assert.ok((await names()).includes('tidemark-20250401T020000Z'));
  });
});
