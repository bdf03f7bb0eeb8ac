// Acceptance 4: a real Icinga 2 (devenv/icinga.ts) shows the service BACKUP-<server> of the host OK after
// a good backup and CRITICAL after a failed one, with the plugin output, performance data and check
// source Tidemark sent through POST /v1/actions/process-check-result. A restore drill reports to its own
// service, RESTORE-DRILL-<server>, leaving BACKUP-<server> as the last backup left it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startIcinga, type DevIcinga } from '../devenv/icinga.js';
import type { BackupSummary } from '../domain/backup.js';
import type { DrillReport } from '../domain/drill.js';
import { backupWorkflowId, controlTaskQueue } from '../domain/names.js';
import { drillWorkflowId } from '../schedule/desired.js';
import { createRig, recordCliOutput, type Rig } from './helpers/rig.js';
import { editInventory, setHostSettings } from './helpers/inventory-edit.js';
import { allRunsText } from './helpers/history.js';

let icinga: DevIcinga | undefined;
let rig: Rig | undefined;
let service: string;
let password: string;
/** What the CLI printed in this file's runs: searched for the password at the end. */
const cliOutput: string[] = [];

before(async () => {
  icinga = await startIcinga();
  password = readFileSync(icinga.passwordFile, 'utf8').trim();
  rig = await createRig('icinga');
  recordCliOutput(rig, cliOutput);
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  service = `BACKUP-${rig.server}`;
  await icinga.ensurePassiveService(rig.hostName, service);
  const { url, user, passwordFile, caFile, tlsServerName } = icinga;
  editInventory(rig, (inventory) => {
    // service defaults to BACKUP-{server} and host to {host}, as in SOWN.
    inventory.notify = [{ type: 'icinga', url, user, passwordFile, caFile, tlsServerName, attempts: 2 }];
  });
  await rig.startWorker();
});
after(async () => {
  await rig?.close();
  // API-made objects persist in /var/lib/icinga2: remove the host (and its services).
  if (rig) await icinga?.deleteHost(rig.hostName).catch(() => undefined);
  await icinga?.stop();
});

test('a good backup: Icinga shows BACKUP-<server> OK with files, bytes, duration and snapshot', async () => {
  const run = await rig!.cli(['start-backup', '--host', rig!.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr);
  const summary = (await rig!.client.workflow
    .getHandle(backupWorkflowId(rig!.hostName, rig!.server))
    .result()) as BackupSummary;
  assert.deepEqual(summary.notifications, [
    { target: 'notify.0', type: 'icinga', ok: true, detail: `OK to demo-host!${service}` },
  ]);

  const result = await icinga!.lastCheckResult(rig!.hostName, service);
  assert.ok(result, 'a check result arrived');
  assert.equal(result.state, 0);
  assert.match(
    result.output,
    /^BACKUP OK - \d+ files, \d+ bytes in \S+, snapshot \S+\/demo-host@tidemark-\d{8}T\d{6}Z$/,
  );
  assert.ok(result.output.includes(summary.snapshot!));
  assert.equal(result.check_source, rig!.server);
  assert.deepEqual(
    result.performance_data?.map((item) => item.split('=')[0]),
    ['bytes', 'files', 'duration'],
  );
  assert.ok(result.performance_data?.includes(`bytes=${summary.bytesTransferred}B;;;0`));
});

test('a failed backup: Icinga shows CRITICAL with the error, and the run still fails', async () => {
  await rig!.host.stop();
  let run;
  try {
    run = await rig!.cli(['start-backup', '--host', rig!.hostName, '--wait']);
  } finally {
    await rig!.host.start();
  }
  assert.equal(run.exitCode, 1, run.stdout + run.stderr);
  const result = await icinga!.lastCheckResult(rig!.hostName, service);
  assert.equal(result?.state, 2);
  assert.match(
    result?.output ?? '',
    /^BACKUP CRITICAL - backup of demo-host on srv-icinga-\S+ failed during [a-z-]+: .*exited 255: .*Connection refused/,
  );
  assert.equal(result?.check_source, rig!.server);
});

/** Runs the pair's restore drill now (the workflow its drill schedule starts) and returns its report. */
async function drillNow(name: string): Promise<DrillReport> {
  const handle = await rig!.client.workflow.start('restoreDrill', {
    taskQueue: controlTaskQueue,
    workflowId: `${drillWorkflowId(rig!.hostName, rig!.server)}-${name}`,
    args: [{ host: rig!.hostName, server: rig!.server }],
  });
  return (await handle.result()) as DrillReport;
}

test('restore drills: Icinga shows RESTORE-DRILL-<server> OK, then CRITICAL with the error; BACKUP-<server> untouched', async () => {
  const drillService = `RESTORE-DRILL-${rig!.server}`;
  await icinga!.ensurePassiveService(rig!.hostName, drillService);
  setHostSettings(rig!, { verify: { every: '1d', sample: 20 } });
  const run = await rig!.cli(['start-backup', '--host', rig!.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr);
  const backupBefore = await icinga!.lastCheckResult(rig!.hostName, service);

  const passed = await drillNow('passed');
  assert.equal(passed.status, 'SUCCESS', JSON.stringify(passed));
  assert.deepEqual(passed.notifications, [
    { target: 'notify.0', type: 'icinga', ok: true, detail: `OK to demo-host!${drillService}` },
  ]);
  const ok = await icinga!.lastCheckResult(rig!.hostName, drillService);
  assert.equal(ok?.state, 0);
  assert.match(
    ok?.output ?? '',
    /^RESTORE DRILL OK - restore drill of \S+\/demo-host@tidemark-\S+: \d+ of \d+ files verified/,
  );
  assert.ok(ok?.performance_data?.includes(`verified=${passed.verified};;;0`), JSON.stringify(ok));
  assert.ok(ok?.performance_data?.includes('mismatched=0;;;0'));
  assert.equal(ok?.check_source, rig!.server);

  await rig!.host.stop();
  let failed: DrillReport;
  try {
    failed = await drillNow('failed');
  } finally {
    await rig!.host.start();
  }
  assert.equal(failed.status, 'FAILED', JSON.stringify(failed));
  const critical = await icinga!.lastCheckResult(rig!.hostName, drillService);
  assert.equal(critical?.state, 2);
  assert.match(critical?.output ?? '', /^RESTORE DRILL CRITICAL - restore drill failed: /);
  assert.deepEqual(
    await icinga!.lastCheckResult(rig!.hostName, service),
    backupBefore,
    "the backup service is the backup's",
  );
  setHostSettings(rig!, { verify: undefined });
});

test('a service Icinga does not know: the target fails at once (not retried) naming the service, the backup is fine', async () => {
  editInventory(rig!, (inventory) => {
    inventory.notify[0].service = 'NO-SUCH-SERVICE';
  });
  try {
    const run = await rig!.cli(['start-backup', '--host', rig!.hostName, '--wait']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /notify notify\.0 \(icinga\) failed: Icinga has no service "demo-host!NO-SUCH-SERVICE"/);
  } finally {
    editInventory(rig!, (inventory) => {
      delete inventory.notify[0].service;
    });
  }
});

test('credentials in the configured URL never reach a message: a refused login names the API without them', async () => {
  const url = new URL(icinga!.url);
  editInventory(rig!, (inventory) => {
    inventory.notify[0].url = `${url.protocol}//tidemark:${password}@${url.host}/?password=${password}`;
    inventory.notify[0].user = 'no-such-api-user';
  });
  try {
    const run = await rig!.cli(['start-backup', '--host', rig!.hostName, '--wait']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `notify notify\\.0 \\(icinga\\) failed: Icinga API https://${url.host.replace(/\./g, '\\.')}/ refused user "no-such-api-user" \\(HTTP 401\\)`,
      ),
    );
    assert.ok(!run.stderr.includes(password), run.stderr);
  } finally {
    editInventory(rig!, (inventory) => {
      inventory.notify[0].url = icinga!.url;
      inventory.notify[0].user = icinga!.user;
    });
  }
});

test("the Icinga password is in no history of this file's runs, no worker output and no CLI output", async () => {
  const { runs, text } = await allRunsText(rig!.client, backupWorkflowId(rig!.hostName, rig!.server));
  assert.ok(runs >= 4, `every run of this file is searched (found ${runs})`);
  assert.ok(
    text.includes('refused user "no-such-api-user"'),
    'the refused login is in a history (sanity check of the search)',
  );
  assert.ok(!text.includes(password), 'password in a history');
  assert.ok(rig!.workerOutput().includes('polling'), 'the worker output was captured');
  assert.ok(!rig!.workerOutput().includes(password), 'password in the worker output');
  assert.ok(cliOutput.length >= 8 && !cliOutput.join('\n').includes(password), 'password in the CLI output');
});
