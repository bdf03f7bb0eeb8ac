// Issue 19, item 1: one bad inventory entry harms one host. A host entry that does not validate fails that
// host's runs only (naming the field); every other host backs up, its outcome told and counted, with a
// WARNING naming the broken entry. A file that stops parsing mid-run leaves the worker on the last inventory
// it validated: the run finishes and is told, later runs end WARNING "inventory invalid since ...", and
// `config check` still exits 2. A host removed from the inventory leaves the metrics page.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { request } from 'undici';
import type { BackupProgress, BackupSummary } from '../domain/backup.js';
import { controlTaskQueue, progressQueryName } from '../domain/names.js';
import { waitFor } from '../devenv/process.js';
import { freePort } from '../worker/free-port.js';
import type { WebhookBody } from '../notify/webhook.js';
import { startHttpReceiver, type HttpReceiver } from './helpers/fake-servers.js';
import { editInventory } from './helpers/inventory-edit.js';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
let hooks: HttpReceiver;
let metricsUrl: string;

before(async () => {
  rig = await createRig('isolate');
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  writeFileSync(join(rig.source, 'data.bin'), Buffer.alloc(2_000_000, 3));
  hooks = await startHttpReceiver();
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  editInventory(rig, (inventory) => {
    inventory.servers[rig.server].metrics = `127.0.0.1:${port}`;
    inventory.notify = [{ type: 'webhook', url: `${hooks.url}/hook/{host}`, attempts: 2 }];
    // The typo of the issue: a port no sshd listens on, refused by the schema.
    inventory.hosts.web1 = { address: '127.0.0.1', port: 70000, paths: ['/srv'] };
  });
  await rig.startWorker();
});
after(async () => {
  await rig.close();
  await hooks.close();
});

/** The webhook deliveries for `host`, oldest first. */
function delivered(host: string): BackupSummary[] {
  return hooks.requests
    .filter((received) => received.url === `/hook/${host}`)
    .map((received) => (JSON.parse(received.body) as WebhookBody).summary);
}

async function lastStatusMetric(host: string): Promise<number | undefined> {
  const text = await (await request(metricsUrl)).body.text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`tidemark_last_status{host="${host}",`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/** A run started as its schedule would start it (no CLI, which reads the file itself). */
function startRun(host: string, id: string) {
  return rig.client.workflow.start('backupHost', {
    taskQueue: controlTaskQueue,
    workflowId: `${id}-${process.pid}`,
    args: [{ host, server: rig.server }],
  });
}

test('a broken entry for web1: demo-host backs up SUCCESS, is told and counted; the CLI names the entry', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stderr, /WARNING: inventory: host "web1" left out .*hosts\.web1\.port: /);
  assert.equal(delivered(rig.hostName).at(-1)?.status, 'SUCCESS', 'the notification went out');
  assert.equal(await lastStatusMetric(rig.hostName), 0, 'the metric agrees');
  const status = await rig.cli(['status', '--host', rig.hostName, '--json']);
  assert.match(status.stdout, /"lastStatus": "SUCCESS"/, status.stdout);
  const snapshots = await rig.cli(['snapshots', '--host', rig.hostName]);
  assert.equal(snapshots.exitCode, 0, snapshots.stderr);
});

test("web1's own runs fail naming the field and the fix, and are told; config check exits 2", async () => {
  const cli = await rig.cli(['start-backup', '--host', 'web1']);
  assert.equal(cli.exitCode, 2);
  assert.match(cli.stderr, /host "web1": its inventory entry does not validate, fix it: hosts\.web1\.port: /);
  const handle = await startRun('web1', 'scheduled-web1');
  const failure = await handle.result().then(
    () => assert.fail('the run of the broken host must fail'),
    (error: unknown) => error,
  );
  assert.ok(failure instanceof WorkflowFailedError);
  assert.match(failure.cause?.message ?? '', /failed during planning: host "web1": .*hosts\.web1\.port: /);
  assert.equal(delivered('web1').at(-1)?.status, 'FAILED', 'the failure was told');
  assert.equal(await lastStatusMetric('web1'), 2);
  const check = await rig.cli(['config', 'check']);
  assert.equal(check.exitCode, 2);
});

test('the file made unparseable mid-run: the run finishes and is told; later runs WARNING on the last good inventory', async () => {
  editInventory(rig, (inventory) => {
    inventory.hosts[rig.hostName].transfer.bandwidthLimit = '400K';
  });
  writeFileSync(join(rig.source, 'data.bin'), Buffer.alloc(2_000_000, 4));
  const good = readFileSync(rig.inventoryPath, 'utf8');
  const handle = await startRun(rig.hostName, 'mid-run');
  await waitFor(
    'the transfer',
    async () => (await handle.query<BackupProgress>(progressQueryName)).phase === 'transfer',
    60_000,
  );
  writeFileSync(rig.inventoryPath, `${good}\nhosts: [this is: not valid\n`);
  try {
    const finished = (await handle.result()) as BackupSummary;
    assert.equal(finished.status, 'SUCCESS', finished.message);
    assert.equal(delivered(rig.hostName).at(-1)?.status, 'SUCCESS', 'its outcome was told');

    const later = (await (await startRun(rig.hostName, 'after-break')).result()) as BackupSummary;
    assert.equal(later.status, 'WARNING');
    assert.match(later.message, /^inventory invalid since \d{4}-\d\d-\d\dT[\d:.]+Z: .*tidemark\.yaml/);
    assert.notEqual(later.snapshot, null, 'the backup itself was taken');
    assert.equal(delivered(rig.hostName).at(-1)?.status, 'WARNING', 'monitoring hears it');
    assert.equal(await lastStatusMetric(rig.hostName), 1);
    const check = await rig.cli(['config', 'check']);
    assert.equal(check.exitCode, 2);
    const copy = JSON.parse(readFileSync(join(rig.dir, 'inventory.last-valid.json'), 'utf8')) as Record<string, string>;
    assert.equal(copy.text, good, 'the last valid inventory is kept on disk');
    assert.match(copy.sha256 ?? '', /^[0-9a-f]{64}$/);
  } finally {
    writeFileSync(rig.inventoryPath, good);
  }
});

test('a host removed from the inventory leaves the metrics page', async () => {
  assert.equal(await lastStatusMetric('web1'), 2, 'web1 is still shown while in the inventory');
  editInventory(rig, (inventory) => {
    delete inventory.hosts.web1;
  });
  assert.equal(await lastStatusMetric('web1'), undefined);
  assert.notEqual(await lastStatusMetric(rig.hostName), undefined, 'the others stay');
});
