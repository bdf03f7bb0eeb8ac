// The fault suite, writers: one writer per dataset. Two workers with one server name, a second run on the
// same dataset, and a worker frozen past its heartbeat timeout while its rsync still runs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { waitFor } from '../devenv/process.js';
import type { BackupSummary } from '../domain/backup.js';
import { backupWorkflowId, controlTaskQueue } from '../domain/names.js';
import { rsyncWritersInto } from '../pool/lease.js';
import { zfs } from '../pool/zfs.js';
import { activityRecord } from './helpers/history.js';
import { createRig, type Rig } from './helpers/rig.js';
import { lastSummary } from './helpers/safety.js';
import { describeTree } from './helpers/tree.js';

let rig: Rig;
let workers: ChildProcess[];
before(async () => {
  // 24 MB at 4 MB/s: a transfer of about 6 s.
  rig = await createRig('writers', {
    host: { transfer: { bandwidthLimit: '4M', heartbeatTimeout: '3s', retryInterval: '1s', attempts: 8 } },
  });
  mkdirSync(join(rig.source, 'data'), { recursive: true });
  for (let index = 0; index < 3; index++)
    writeFileSync(join(rig.source, 'data', `blob-${index}`), randomBytes(8 * 1024 * 1024));
  // Two workers started together with the same --server.
  workers = await Promise.all([rig.startWorker(), rig.startWorker()]);
});
after(() => rig.close());

/** Polls `read` until it returns a value. */
async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  let value: T | undefined;
  await waitFor(what, async () => (value = await read()) !== undefined, timeoutMs);
  return value!;
}

/** Samples how many rsync processes write into the copy at once, until stopped. */
function watchWriters(mountpoint: string): { stop(): Promise<number> } {
  let most = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      most = Math.max(most, (await rsyncWritersInto(mountpoint)).length);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return most;
    },
  };
}

test('two workers with one server name, and a second run started on the same dataset: never two writers, both runs complete', async () => {
  const first = await rig.cli(['start-backup', '--host', rig.hostName]);
  assert.equal(first.exitCode, 0, first.stderr);
  const mountpoint = await until('dataset', async () => rig.copyPath().catch(() => undefined), 20_000);
  await waitFor('first rsync', async () => (await rsyncWritersInto(mountpoint)).length > 0, 30_000);
  const writers = watchWriters(mountpoint);
  // Another run of the same pair under a different id (as a second Temporal namespace or a hand-started
  // workflow would be): the fixed workflow id cannot stop it, the lease must.
  const twin = await rig.client.workflow.start('backupHost', {
    taskQueue: controlTaskQueue,
    workflowId: `${backupWorkflowId(rig.hostName, rig.server)}-twin`,
    args: [{ host: rig.hostName, server: rig.server }],
  });
  const summaries = (await Promise.all([
    rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server)).result(),
    twin.result(),
  ])) as BackupSummary[];
  assert.equal(await writers.stop(), 1, 'at most one rsync wrote the copy at any time');
  assert.deepEqual(
    summaries.map((summary) => summary.status),
    ['SUCCESS', 'SUCCESS'],
    summaries.map((summary) => summary.message).join('\n'),
  );
  // The twin's transfer found the dataset busy and waited (retries) instead of writing beside the first.
  const record = await activityRecord(rig.client, twin.workflowId, 'transferFiles');
  assert.ok((record.attempts.at(-1) ?? 0) >= 2, `twin transfer attempts: ${record.attempts.join(',')}`);
  assert.equal((await rig.snapshots()).length, 2);
  assert.deepEqual(await describeTree(join(mountpoint, rig.source)), await describeTree(rig.source));
});

test('a worker frozen (SIGSTOP) past its heartbeat timeout: the retry on the other worker stops its rsync first, the run completes', async () => {
  writeFileSync(join(rig.source, 'data', 'blob-0'), randomBytes(8 * 1024 * 1024));
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const started = await rig.cli(['start-backup', '--host', rig.hostName]);
  assert.equal(started.exitCode, 0, started.stderr);
  const mountpoint = await rig.copyPath();
  // The transfer's rsync leads its process group; its parent is the worker running the attempt.
  const [rsyncPid] = await until(
    'rsync',
    async () => {
      const pids = await rsyncWritersInto(mountpoint);
      return pids.length > 0 ? pids : undefined;
    },
    30_000,
  );
  const workerPid = Number(readFileSync(`/proc/${rsyncPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
  const frozen = workers.find((worker) => worker.pid === workerPid);
  assert.ok(frozen, `rsync ${rsyncPid} belongs to one of the rig's workers (parent ${workerPid})`);
  frozen.kill('SIGSTOP');
  try {
    // Heartbeat timeout 3 s, retry after 1 s: the other worker takes over and fences the frozen one's rsync.
    await waitFor(
      'a new rsync',
      async () => {
        const pids = await rsyncWritersInto(mountpoint);
        return pids.length > 0 && !pids.includes(rsyncPid!);
      },
      60_000,
    );
    assert.deepEqual(
      (await rsyncWritersInto(mountpoint)).filter((pid) => pid === rsyncPid),
      [],
      'the frozen attempt no longer writes',
    );
  } finally {
    frozen.kill('SIGCONT');
  }
  const summary = await lastSummary(rig).catch(async (error: Error) => {
    const history = await rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server)).fetchHistory();
    const steps = (history.events ?? []).map(
      (event) =>
        `${event.eventType} ${JSON.stringify(event.activityTaskStartedEventAttributes ?? event.activityTaskFailedEventAttributes?.failure?.message ?? '')}`,
    );
    throw new Error(`${error.cause instanceof Error ? error.cause.message : error.message}\n${steps.join('\n')}`);
  });
  assert.equal(summary.status, 'SUCCESS', summary.message);
  const record = await activityRecord(rig.client, backupWorkflowId(rig.hostName, rig.server), 'transferFiles');
  assert.ok((record.attempts.at(-1) ?? 0) >= 2, `transfer attempts: ${record.attempts.join(',')}`);
  assert.deepEqual(await describeTree(join(mountpoint, rig.source)), await describeTree(rig.source));
  assert.equal((await rig.snapshots()).length, 3);
});

test('an attempt that loses its lease stops its rsync within seconds and does not snapshot', async () => {
  writeFileSync(join(rig.source, 'data', 'blob-1'), randomBytes(8 * 1024 * 1024));
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const snapshotsBefore = await rig.snapshots();
  const started = await rig.cli(['start-backup', '--host', rig.hostName]);
  assert.equal(started.exitCode, 0, started.stderr);
  const mountpoint = await rig.copyPath();
  await waitFor('rsync', async () => (await rsyncWritersInto(mountpoint)).length > 0, 30_000);
  // Another run takes the dataset (as a worker of a second Temporal cluster with the same pool would).
  const other = {
    workflowId: 'elsewhere',
    runId: 'other-run',
    attempt: 1,
    state: 'writing',
    worker: 'other',
    boot: 'other-boot',
  };
  await zfs(['set', `tidemark:lease=${JSON.stringify(other)}`, rig.dataset]);
  const takenAt = Date.now();
  await waitFor('rsync stopped', async () => (await rsyncWritersInto(mountpoint)).length === 0, 15_000);
  assert.ok(Date.now() - takenAt < 10_000, 'stopped within the 5 s lease check and the kill grace');
  const failure = await lastSummary(rig).then(
    () => assert.fail('the run must fail'),
    (error: Error) => (error.cause instanceof Error ? error.cause.message : error.message),
  );
  assert.match(
    failure,
    /failed during transfer: the dataset \S+ was taken over by run other-run attempt 1 \(writing, worker other\) while this attempt wrote it; rsync was stopped/,
  );
  assert.deepEqual(await rig.snapshots(), snapshotsBefore, 'no snapshot of a copy someone else holds');
});
