// Acceptance 4, the transfer itself: the host goes down in the middle of rsync; the rsync activity is
// retried with backoff, then the run fails naming the host and the ssh error; earlier snapshots stay.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listSnapshots } from '../pool/zfs.js';
import { waitFor } from '../devenv/process.js';
import { backupWorkflowId } from '../domain/names.js';
import { activityRecord } from './helpers/history.js';
import { snapshotIdentity } from './helpers/safety.js';
import { createRig, processesMatching, type Rig } from './helpers/rig.js';

let rig: Rig;
before(async () => {
  rig = await createRig('xfer-retry', {
    host: { transfer: { bandwidthLimit: '4M', heartbeatTimeout: '3s', retryInterval: '1s', attempts: 3 } },
  });
  mkdirSync(join(rig.source, 'data'), { recursive: true });
  writeFileSync(join(rig.source, 'data', 'small'), 'first backup\n');
  await rig.startWorker();
});
after(() => rig.close());

test('host lost mid-transfer: rsync is retried with backoff, then the run fails naming host and ssh error', async () => {
  const first = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(first.exitCode, 0, first.stdout + first.stderr);
  const snapshotsBefore = await listSnapshots(rig.dataset);

  writeFileSync(join(rig.source, 'data', 'blob'), randomBytes(16 * 1024 * 1024));
  assert.equal((await rig.cli(['start-backup', '--host', rig.hostName])).exitCode, 0);
  await waitFor('rsync running', async () => (await processesMatching(`${rig.source}`)).length >= 2, 30_000);
  let failed;
  try {
    await rig.host.stop({ dropSessions: true });
    failed = await rig.client.workflow
      .getHandle(backupWorkflowId(rig.hostName, rig.server))
      .result()
      .then(
        () => undefined,
        (error: Error) => error,
      );
  } finally {
    await rig.host.start();
  }
  assert.ok(failed, 'the run failed');
  const message = String((failed as Error & { cause?: Error }).cause?.message);
  // rsync passes on ssh's 255, or says 12 (protocol stream closed) when it notices the dead pipe first: a race.
  assert.match(
    message,
    /backup of demo-host on srv-xfer-retry-\S+ failed during transfer: rsync from root@127\.\S+ exited (?:255|12): .*Connection refused/,
  );

  const transfer = await activityRecord(rig.client, backupWorkflowId(rig.hostName, rig.server), 'transferFiles');
  assert.deepEqual(transfer, { attempts: [3], backoffCoefficient: 2, initialIntervalSeconds: 1 });
  assert.deepEqual(
    snapshotIdentity(await listSnapshots(rig.dataset)),
    snapshotIdentity(snapshotsBefore),
    'no new snapshot, the previous one untouched',
  );
});
