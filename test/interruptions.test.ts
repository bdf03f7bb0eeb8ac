// Acceptance 6, 7 and 8: cancelling kills rsync and ssh; two starts run one rsync; a killed worker's
// backup completes after restart with exactly one snapshot.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../devenv/process.js';
import { backupWorkflowId } from '../domain/names.js';
import { createRig, processesMatching, type Rig } from './helpers/rig.js';
import { activityRecord } from './helpers/history.js';
import { describeTree } from './helpers/tree.js';

let rig: Rig;
before(async () => {
  // 24 MB at 1 MB/s: a transfer that lasts about 24 s, so a second CLI started on a busy machine (seconds
  // each) still lands its cancel, kill or second start while this rsync runs.
  rig = await createRig('interrupt', {
    host: { transfer: { bandwidthLimit: '1M', heartbeatTimeout: '3s', retryInterval: '1s', attempts: 5 } },
  });
  mkdirSync(join(rig.source, 'data'), { recursive: true });
  for (let index = 0; index < 3; index++)
    writeFileSync(join(rig.source, 'data', `blob-${index}`), randomBytes(8 * 1024 * 1024));
});
after(() => rig.close());

/** rsync and ssh processes (local and sshd's remote side) working on this rig's source tree. */
const transferProcesses = () => processesMatching(rig.source);

test('cancel during a large transfer: rsync and ssh are gone within seconds, no snapshot is taken', async () => {
  const worker = await rig.startWorker();
  const started = await rig.cli(['start-backup', '--host', rig.hostName]);
  assert.equal(started.exitCode, 0, started.stderr);
  await waitFor('rsync running', async () => (await transferProcesses()).length >= 2, 20_000);

  const runId = (await rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server)).describe()).runId;
  const cancelled = await rig.cli(['cancel-backup', '--host', rig.hostName, '--json']);
  assert.equal(cancelled.exitCode, 0, cancelled.stderr);
  assert.deepEqual(JSON.parse(cancelled.stdout), [
    {
      host: rig.hostName,
      server: rig.server,
      workflowId: backupWorkflowId(rig.hostName, rig.server),
      outcome: 'cancel-requested',
      runId,
    },
  ]);
  const cancelAt = Date.now();
  await waitFor('rsync and ssh gone', async () => (await transferProcesses()).length === 0, 10_000);
  assert.ok(Date.now() - cancelAt < 10_000);

  const handle = rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server));
  await waitFor('run closed', async () => (await handle.describe()).status.name !== 'RUNNING', 20_000);
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
  assert.deepEqual(await rig.snapshots(), []);
  worker.kill('SIGTERM');
});

test('two start-backup calls at once: one run, one rsync; the second says which run is going', async () => {
  const worker = await rig.startWorker();
  const [first, second] = await Promise.all([
    rig.cli(['start-backup', '--host', rig.hostName]),
    rig.cli(['start-backup', '--host', rig.hostName]),
  ]);
  const outcomes = [first, second].map((run) => run.exitCode).sort();
  assert.deepEqual(outcomes, [0, 3], first.stdout + second.stdout);
  const refused = first.exitCode === 3 ? first : second;
  const accepted = first.exitCode === 0 ? first : second;
  const runId = /run (\S+)/.exec(accepted.stdout)?.[1];
  assert.ok(runId);
  assert.match(refused.stdout, new RegExp(`already running: backup:demo-host@\\S+ run ${runId}`));

  // A third caller with --wait attaches to the same run instead of starting one.
  const attached = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(attached.exitCode, 0, attached.stderr);
  assert.match(attached.stdout, new RegExp(`already running: \\S+ run ${runId}`));
  assert.match(attached.stdout, /SUCCESS: demo-host/);

  const workflowId = backupWorkflowId(rig.hostName, rig.server);
  const runs = [];
  for await (const run of rig.client.workflow.list({
    query: `WorkflowId = "${workflowId}" AND StartTime > "${new Date(Date.now() - 60_000).toISOString()}"`,
  }))
    runs.push(run);
  assert.equal(runs.filter((run) => run.status.name !== 'CANCELLED').length, 1, 'exactly one backup run');
  assert.deepEqual((await activityRecord(rig.client, workflowId, 'transferFiles')).attempts, [1], 'exactly one rsync');
  assert.equal((await rig.snapshots()).length, 1);
  worker.kill('SIGTERM');
});

test('worker killed during rsync and restarted: the backup completes with exactly one snapshot', async () => {
  writeFileSync(join(rig.source, 'data', 'blob-0'), randomBytes(8 * 1024 * 1024));
  writeFileSync(join(rig.source, 'data', 'blob-1'), randomBytes(8 * 1024 * 1024));
  await sleep(1_100);
  const snapshotsBefore = await rig.snapshots();
  const worker = await rig.startWorker();
  assert.equal((await rig.cli(['start-backup', '--host', rig.hostName])).exitCode, 0);
  await waitFor('rsync running', async () => (await transferProcesses()).length >= 2, 20_000);
  await sleep(1_000);

  worker.kill('SIGKILL');
  // pdeathsig: rsync dies with the worker, ssh follows; nothing keeps writing into the dataset.
  await waitFor('orphans gone', async () => (await transferProcesses()).length === 0, 10_000);

  await rig.startWorker();
  const summary = await rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server)).result();
  assert.equal(summary.status, 'SUCCESS');
  const snapshots = await rig.snapshots();
  assert.equal(snapshots.length, snapshotsBefore.length + 1, 'exactly one new snapshot');
  const workflowId = backupWorkflowId(rig.hostName, rig.server);
  assert.ok(
    (await activityRecord(rig.client, workflowId, 'transferFiles')).attempts[0]! >= 2,
    'the transfer was retried',
  );
  assert.deepEqual(await describeTree(join(await rig.copyPath(), rig.source)), await describeTree(rig.source));
});
