// Mail on failure and on recovery (PlanB) through a local SMTP server, and Zabbix trapper items through
// a local trapper, across a good, a failed and a recovering run of one host.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BackupSummary } from '../domain/backup.js';
import { backupWorkflowId } from '../domain/names.js';
import { createRig, type Rig } from './helpers/rig.js';
import { startSmtpServer, startZabbixTrapper, type SmtpServer, type ZabbixTrapper } from './helpers/fake-servers.js';
import { editInventory } from './helpers/inventory-edit.js';

let rig: Rig;
let smtp: SmtpServer;
let trapper: ZabbixTrapper;

before(async () => {
  rig = await createRig('mail');
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  smtp = await startSmtpServer();
  trapper = await startZabbixTrapper();
  editInventory(rig, (inventory) => {
    inventory.servers[rig.server].notify = [
      {
        type: 'mail',
        smtp: `127.0.0.1:${smtp.port}`,
        from: 'tidemark@backup.example',
        to: ['ops@example.org'],
        attempts: 2,
      },
      { type: 'zabbix', server: '127.0.0.1', port: trapper.port, attempts: 2 },
    ];
  });
  await rig.startWorker();
});
after(async () => {
  await rig.close();
  await smtp.close();
  await trapper.close();
});

const summaryOf = async () => {
  const result = await rig.client.workflow
    .getHandle(backupWorkflowId(rig.hostName, rig.server))
    .result()
    .catch((error: { cause?: { details?: unknown[] } }) => error.cause?.details?.[0]);
  return result as BackupSummary;
};
const item = (key: string) =>
  trapper.batches.at(-1)?.find((entry) => entry.key === `tidemark.${key}[${rig.server}]`)?.value;

test('a good first run: no mail (nothing to report), Zabbix gets status 0, last success and figures', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(smtp.mails.length, 0);
  const summary = await summaryOf();
  const ids = `servers.${rig.server}.notify`;
  assert.deepEqual(
    summary.notifications?.map(({ target, ok, skipped }) => ({ target, ok, skipped })),
    [
      { target: `${ids}.0`, ok: true, skipped: true },
      { target: `${ids}.1`, ok: true, skipped: undefined },
    ],
  );
  assert.equal(trapper.batches.length, 1);
  assert.ok(trapper.batches[0]!.every((entry) => entry.host === 'demo-host'));
  assert.equal(item('status'), '0');
  assert.ok(Math.abs(Number(item('last_success')) - Date.now() / 1000) < 60);
  assert.equal(item('bytes'), String(summary.bytesTransferred));
  assert.match(item('message') ?? '', /^BACKUP OK - /);
});

test('a failed run mails the failure once; Zabbix gets status 2 and no last success', async () => {
  await rig.host.stop();
  try {
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(run.exitCode, 1);
  } finally {
    await rig.host.start();
  }
  assert.equal(smtp.mails.length, 1);
  const mail = smtp.mails[0]!;
  assert.equal(mail.from, 'tidemark@backup.example');
  assert.deepEqual(mail.to, ['ops@example.org']);
  assert.equal(mail.subject, `[tidemark] FAILED: backup of demo-host on ${rig.server}`);
  assert.match(mail.text, /^Status: +FAILED \(previous run: SUCCESS\)$/m);
  assert.match(mail.text, /^Message: +backup of demo-host on \S+ failed during [a-z-]+: .*exited 255/m);
  assert.match(mail.data, /^Auto-Submitted: auto-generated\r$/m);
  assert.equal(item('status'), '2');
  assert.equal(item('last_success'), undefined);
});

test('the next good run mails the recovery; the one after mails nothing', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(smtp.mails.length, 2);
  assert.equal(smtp.mails[1]!.subject, `[tidemark] RECOVERED: backup of demo-host on ${rig.server}`);
  assert.match(smtp.mails[1]!.text, /^Status: +SUCCESS \(previous run: FAILED\)$/m);
  assert.equal(item('status'), '0');

  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const again = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(again.exitCode, 0, again.stderr);
  assert.equal(smtp.mails.length, 2, 'no mail for a success after a success');
});
