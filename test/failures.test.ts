// Acceptance 4 and 5: ssh trouble is retried then reported by host; a wrong host key is never retried.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { backupWorkflowId } from '../domain/names.js';
import { listSnapshots } from '../pool/zfs.js';
import { backupWithHostDown, createRig, type Rig } from './helpers/rig.js';
import { activityRecord } from './helpers/history.js';
import { snapshotIdentity } from './helpers/safety.js';

let rig: Rig;
before(async () => {
  rig = await createRig('failures');
  writeFileSync(join(rig.dir, 'src-marker'), '');
  await execa('mkdir', ['-p', join(rig.source, 'etc')]);
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  await rig.startWorker();
});
after(() => rig.close());

test('sshd down: the transfer is retried with backoff, then the run fails naming the host and the ssh error', async () => {
  const good = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(good.exitCode, 0, good.stderr);
  const snapshotsBefore = await listSnapshots(rig.dataset);
  assert.equal(snapshotsBefore.length, 1);

  const failed = await backupWithHostDown(rig);
  assert.equal(failed.exitCode, 1, failed.stdout + failed.stderr);
  // The first step reaching the host is probeHost (veto, mount table, exclude file), retried like the transfer.
  assert.match(
    failed.stderr,
    /FAILED: .*backup of demo-host on srv-failures-\S+ failed during host-check: .*ssh to root@127\.\S+ exited 255: .*Connection refused/,
  );
  // rig: 3 attempts, 1 s initial interval doubling; history keeps the last attempt's start.
  const probe = await activityRecord(rig.client, backupWorkflowId(rig.hostName, rig.server), 'probeHost');
  assert.deepEqual(probe, { attempts: [3], backoffCoefficient: 2, initialIntervalSeconds: 1 });
  assert.deepEqual(
    snapshotIdentity(await listSnapshots(rig.dataset)),
    snapshotIdentity(snapshotsBefore),
    'the previous snapshot is untouched',
  );
});

test('unknown host key: the run fails at once, saying so, and nothing is transferred', async () => {
  const other = join(rig.dir, 'other_host_key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
  const otherKey = (await execa('cat', [`${other}.pub`])).stdout.split(' ').slice(0, 2).join(' ');
  writeFileSync(rig.host.knownHostsFile, `[${rig.host.address}]:${rig.host.port} ${otherKey}\n`);
  writeFileSync(join(rig.source, 'must-not-arrive'), 'x');
  const snapshotsBefore = await listSnapshots(rig.dataset);

  const failed = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(failed.exitCode, 1);
  assert.match(
    failed.stderr,
    /ssh rejected the host key of demo-host \(root@127\.\S+\), checked under the name "demo-host" in \S+known_hosts: .*nothing was transferred/,
  );
  assert.deepEqual(
    (await activityRecord(rig.client, backupWorkflowId(rig.hostName, rig.server), 'probeHost')).attempts,
    [1],
  );
  assert.deepEqual(
    (await activityRecord(rig.client, backupWorkflowId(rig.hostName, rig.server), 'transferFiles')).attempts,
    [],
  );
  assert.ok(!readdirSync(join(await rig.copyPath(), rig.source)).includes('must-not-arrive'));
  assert.deepEqual(snapshotIdentity(await listSnapshots(rig.dataset)), snapshotIdentity(snapshotsBefore));
  writeFileSync(rig.host.knownHostsFile, `${rig.host.hostKeyLine}\n`);
});
