// Scheduled restore drills: `verify: { every, sample }` makes `sync` create one drill schedule per pair; the
// schedule's run (triggered here) verifies the pair on the server's worker, writes the result to the state file
// and shows in `tidemark status`: a passing drill leaves the pair OK, a failing one makes it WARNING with the
// reason. Unsetting `verify` and syncing removes the schedule. Real sshd, rsync, zfs-fuse, Temporal and worker.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { lstat, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ScheduleNotFoundError, WorkflowFailedError } from '@temporalio/client';
import { waitFor } from '../devenv/process.js';
import { controlTaskQueue, snapshotName } from '../domain/names.js';
import { statusAttribute } from '../domain/search-attributes.js';
import type { PairStatus } from '../fleet/verdict.js';
import type { StateFile } from '../notify/state.js';
import { zfs } from '../pool/zfs.js';
import { backupScheduleId, drillScheduleId, drillWorkflowId } from '../schedule/desired.js';
import { editInventory, setHostSettings } from './helpers/inventory-edit.js';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;

before(async () => {
  rig = await createRig('drill', { host: { verify: { every: '1d', sample: 50 } } });
  // No sync-inventory schedule on the shared dev server: only this rig's schedules are under test.
  editInventory(rig, (inventory) => {
    inventory.sync = { enabled: false };
  });
  mkdirSync(rig.source, { recursive: true });
  writeFileSync(join(rig.source, 'kept.txt'), 'a file the drill compares\n');
  writeFileSync(join(rig.source, 'other.txt'), 'and another\n');
  await rig.startWorker();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
});
after(async () => {
  for (const id of [drillScheduleId(rig.hostName, rig.server), backupScheduleId(rig.hostName, rig.server)])
    await rig?.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await rig?.close();
});

async function pairStatus(): Promise<{ exitCode: number; row: PairStatus }> {
  const result = await rig.cli(['status', '--json']);
  const rows = JSON.parse(result.stdout) as PairStatus[];
  const row = rows.find((entry) => entry.host === rig.hostName && entry.server === rig.server);
  assert.ok(row, result.stdout + result.stderr);
  return { exitCode: result.exitCode, row };
}

function drillEntry() {
  const state = JSON.parse(readFileSync(join(rig.dir, 'state.json'), 'utf8')) as StateFile;
  return state.drills?.[`${rig.hostName}@${rig.server}`];
}

/** Triggers the pair's drill schedule and waits until a drill run newer than those in `seen` has closed
 * (visibility shows it) and the status attribute says how it ended. */
async function triggeredDrill(seen: Set<string>): Promise<{ runId: string; status: string }> {
  await rig.client.schedule.getHandle(drillScheduleId(rig.hostName, rig.server)).trigger();
  let found: { runId: string; status: string } | undefined;
  await waitFor(
    'the triggered restore drill to end',
    async () => {
      const query = `WorkflowType = 'restoreDrill' AND TidemarkServer = '${rig.server}' AND ExecutionStatus != 'Running'`;
      for await (const run of rig.client.workflow.list({ query })) {
        const status = run.typedSearchAttributes.get(statusAttribute);
        if (!seen.has(run.runId) && status && status !== 'RUNNING') found = { runId: run.runId, status };
      }
      return found !== undefined;
    },
    300_000,
  );
  seen.add(found!.runId);
  return found!;
}

const seen = new Set<string>();

test('sync makes the drill schedule; a triggered drill passes, is in the state file, and status stays OK', async () => {
  const sync = await rig.cli(['sync']);
  assert.equal(sync.exitCode, 0, sync.stdout + sync.stderr);
  const schedule = await rig.client.schedule.getHandle(drillScheduleId(rig.hostName, rig.server)).describe();
  assert.equal(schedule.action.type, 'startWorkflow');
  assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.workflowType, 'restoreDrill');

  const drill = await triggeredDrill(seen);
  assert.equal(drill.status, 'SUCCESS', rig.workerOutput().slice(-3000));
  const entry = drillEntry();
  assert.equal(entry?.status, 'SUCCESS', JSON.stringify(entry));
  assert.equal(entry?.runId, drill.runId);
  assert.ok(entry.verified >= 2, JSON.stringify(entry));

  const { exitCode, row } = await pairStatus();
  assert.equal(row.verdict, 'OK', JSON.stringify(row));
  assert.equal(exitCode, 0);
});

test('a drill that finds the copy differing from the host fails, and status says WARNING with the reason', async () => {
  // Silent corruption of the copy (size and mtime kept) in a new newest snapshot, as verify.test.ts does.
  const copy = join(await rig.copyPath(), rig.source, 'kept.txt');
  const stat = await lstat(copy);
  const bytes = await readFile(copy);
  bytes[0] = bytes[0]! ^ 0x01;
  await writeFile(copy, bytes);
  await utimes(copy, stat.atime, stat.mtime);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await zfs(['snapshot', `${rig.dataset}@${snapshotName(new Date())}`]);

  const drill = await triggeredDrill(seen);
  assert.equal(drill.status, 'FAILED');
  const entry = drillEntry();
  assert.equal(entry?.status, 'FAILED', JSON.stringify(entry));
  assert.equal(entry?.mismatched, 1);

  const { exitCode, row } = await pairStatus();
  assert.equal(row.verdict, 'WARNING', JSON.stringify(row));
  assert.equal(exitCode, 1);
  assert.match(row.reasons.join('\n'), /^last restore drill FAILED: restore drill of \S+ FAILED: 1 file\(s\) differ/m);
});

test('verify unset: sync removes the drill schedule', async () => {
  setHostSettings(rig, { verify: undefined });
  const sync = await rig.cli(['sync']);
  assert.equal(sync.exitCode, 0, sync.stdout + sync.stderr);
  await assert.rejects(
    rig.client.schedule.getHandle(drillScheduleId(rig.hostName, rig.server)).describe(),
    ScheduleNotFoundError,
  );
});

test('a drill of a pair without verify.every fails naming the setting (the workflow fails, status FAILED)', async () => {
  const handle = await rig.client.workflow.start('restoreDrill', {
    taskQueue: controlTaskQueue,
    workflowId: `${drillWorkflowId(rig.hostName, rig.server)}-unconfigured`,
    args: [{ host: rig.hostName, server: rig.server }],
  });
  const failure = await handle.result().then(
    () => assert.fail('the drill should fail'),
    (error: unknown) => error,
  );
  assert.ok(failure instanceof WorkflowFailedError, String(failure));
  assert.match(String((failure.cause?.cause as Error | undefined)?.message), /no verify\.every for server/);
  const description = await handle.describe();
  assert.equal(description.typedSearchAttributes.get(statusAttribute), 'FAILED');
});
