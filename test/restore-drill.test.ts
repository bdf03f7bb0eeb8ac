// Scheduled restore drills: `verify: { every, sample }` makes `sync` create one drill schedule per pair; the
// schedule's run (triggered here) verifies the pair on the server's worker, writes the result to the state file
// and shows in `tidemark status`: a passing drill leaves the pair OK, a failing one makes it WARNING with the
// reason. Each drill's result reaches the pair's notify targets as a backup's does: a real webhook receiver gets
// a signed `restore-drill.finished` delivery, a real SMTP server the failure and recovery mail, a Zabbix trapper
// stand-in the tidemark.drill.* items; healthchecks (a backup job's check) is not pinged. `tidemark schedules`
// lists the drill schedule beside the backup's. Unsetting `verify` and syncing removes the schedule. Real sshd,
// rsync, zfs-fuse, Temporal and worker.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { lstat, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ScheduleNotFoundError, WorkflowFailedError } from '@temporalio/client';
import { waitFor } from '../devenv/process.js';
import type { DrillReport } from '../domain/drill.js';
import { controlTaskQueue, snapshotName } from '../domain/names.js';
import { statusAttribute } from '../domain/search-attributes.js';
import type { ScheduleRow } from '../client/schedules.js';
import type { DrillWebhookBody } from '../notify/webhook.js';
import { zfs } from '../pool/zfs.js';
import { backupScheduleId, drillScheduleId, drillWorkflowId } from '../schedule/desired.js';
import { docsWebhookVerifier, type WebhookVerifier } from './helpers/docs-webhook.js';
import {
  startHttpReceiver,
  startSmtpServer,
  startZabbixTrapper,
  type HttpReceiver,
  type SmtpServer,
  type ZabbixTrapper,
} from './helpers/fake-servers.js';
import { editInventory, setHostSettings } from './helpers/inventory-edit.js';
import { createRig, rigPairStatus, rigState, type Rig } from './helpers/rig.js';

const secret = 'drill-webhook-secret';
let hooks: HttpReceiver;
let pings: HttpReceiver;
let smtp: SmtpServer;
let trapper: ZabbixTrapper;
let verifySignature: WebhookVerifier;
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
  verifySignature = await docsWebhookVerifier();
  hooks = await startHttpReceiver();
  pings = await startHttpReceiver();
  smtp = await startSmtpServer();
  trapper = await startZabbixTrapper();
  const secretFile = join(rig.dir, 'webhook.secret');
  writeFileSync(secretFile, `${secret}\n`);
  chmodSync(secretFile, 0o600);
  editInventory(rig, (inventory) => {
    inventory.notify = [
      { type: 'webhook', url: `${hooks.url}/hook/{host}`, secretFile, attempts: 2 },
      { type: 'mail', smtp: `127.0.0.1:${smtp.port}`, from: 'tidemark@backup.example', to: ['ops@example.org'] },
      { type: 'zabbix', server: '127.0.0.1', port: trapper.port, attempts: 2 },
      { type: 'healthchecks', url: `${pings.url}/ping/{host}`, attempts: 2 },
    ];
  });
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
  await hooks?.close();
  await pings?.close();
  await smtp?.close();
  await trapper?.close();
});

const pairStatus = () => rigPairStatus(rig);

function drillEntry() {
  const state = rigState(rig);
  return state.drills?.[`${rig.hostName}@${rig.server}`];
}

/** Triggers the pair's drill schedule and waits until a drill run newer than those in `seen` has closed
 * (visibility shows it) and the status attribute says how it ended. */
async function triggeredDrill(seen: Set<string>): Promise<{ runId: string; status: string; report: DrillReport }> {
  await rig.client.schedule.getHandle(drillScheduleId(rig.hostName, rig.server)).trigger();
  let found: { workflowId: string; runId: string; status: string } | undefined;
  await waitFor(
    'the triggered restore drill to end',
    async () => {
      const query = `WorkflowType = 'restoreDrill' AND TidemarkServer = '${rig.server}' AND ExecutionStatus != 'Running'`;
      for await (const run of rig.client.workflow.list({ query })) {
        const status = run.typedSearchAttributes.get(statusAttribute);
        if (!seen.has(run.runId) && status && status !== 'RUNNING')
          found = { workflowId: run.workflowId, runId: run.runId, status };
      }
      return found !== undefined;
    },
    300_000,
  );
  seen.add(found!.runId);
  const report = (await rig.client.workflow.getHandle(found!.workflowId, found!.runId).result()) as DrillReport;
  return { runId: found!.runId, status: found!.status, report };
}

/** The drill deliveries of run `runId` the webhook receiver got, each checked as the monitoring how-to says. */
function drillDeliveries(runId: string): DrillWebhookBody[] {
  return hooks.requests
    .filter((request) => request.headers['x-tidemark-event'] === 'restore-drill.finished')
    .filter((request) => request.headers['x-tidemark-delivery'] === runId)
    .map((request) => {
      assert.ok(verifySignature(secret, request.headers, request.body), 'signed like a backup delivery');
      assert.equal(request.url, '/hook/demo-host');
      return JSON.parse(request.body) as DrillWebhookBody;
    });
}

/** The drill items of the trapper's newest batch that has them. */
function drillItems(): Record<string, string> {
  const batch = trapper.batches.filter((items) => items.some((item) => item.key.startsWith('tidemark.drill.'))).at(-1);
  return Object.fromEntries((batch ?? []).map((item) => [item.key.replace(`[${rig.server}]`, ''), item.value]));
}

const drillMails = (kind: 'FAILED' | 'RECOVERED') =>
  smtp.mails.filter((mail) => mail.subject === `[tidemark] ${kind}: restore drill of demo-host on ${rig.server}`);

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

  // Monitoring heard it: one signed webhook delivery, the Zabbix drill items, no mail (nothing to report), no ping.
  const [delivery, ...more] = drillDeliveries(drill.runId);
  assert.deepEqual(more, []);
  assert.equal(delivery?.event, 'restore-drill.finished');
  assert.equal(delivery.runId, drill.runId);
  assert.equal(delivery.drill.status, 'SUCCESS');
  assert.equal(delivery.drill.verified, entry.verified);
  assert.equal(delivery.drill.finishedAt, entry.finishedAt);
  assert.equal(delivery.recovery, undefined);
  const items = drillItems();
  assert.equal(items['tidemark.drill.status'], '0');
  assert.equal(items['tidemark.drill.mismatched'], '0');
  assert.equal(items['tidemark.drill.last_success'], String(Math.floor(Date.parse(entry.finishedAt) / 1000)));
  assert.match(
    items['tidemark.drill.message'] ?? '',
    /^RESTORE DRILL OK - restore drill of \S+: \d+ of \d+ files verified/,
  );
  assert.equal(drillMails('FAILED').length + drillMails('RECOVERED').length, 0);
  assert.ok(!pings.requests.some((request) => request.url.includes(drill.runId)), 'healthchecks is for backups');
  assert.deepEqual(
    drill.report.notifications?.map(({ target, type, ok, skipped }) => ({ target, type, ok, skipped })),
    [
      { target: 'notify.0', type: 'webhook', ok: true, skipped: undefined },
      { target: 'notify.1', type: 'mail', ok: true, skipped: true },
      { target: 'notify.2', type: 'zabbix', ok: true, skipped: undefined },
      { target: 'notify.3', type: 'healthchecks', ok: true, skipped: true },
    ],
  );
});

test('schedules lists the drill schedule beside the backup schedule, in the table and in --json', async () => {
  const listed = await rig.cli(['schedules', '--json', '--host', rig.hostName]);
  assert.equal(listed.exitCode, 0, listed.stderr);
  const rows = (JSON.parse(listed.stdout) as ScheduleRow[]).filter((row) => row.server === rig.server);
  assert.deepEqual(
    rows.map(({ kind, scheduleId, schedule }) => ({ kind, scheduleId, schedule })),
    [
      { kind: 'backup', scheduleId: backupScheduleId(rig.hostName, rig.server), schedule: rows[0]?.schedule },
      { kind: 'drill', scheduleId: drillScheduleId(rig.hostName, rig.server), schedule: 'drill every 1d, 50 files' },
    ],
  );
  const drillRow = rows[1]!;
  assert.match(drillRow.lastResult ?? '', /^SUCCESS: restore drill of \S+: \d+ of \d+ files verified/);
  assert.equal(drillRow.paused, false);
  assert.ok(drillRow.nextRun, 'a next run');

  const table = await rig.cli(['schedules', '--host', rig.hostName]);
  assert.equal(table.exitCode, 0, table.stderr);
  assert.match(table.stdout, /^HOST\s+SERVER\s+KIND\s+SCHEDULE\s+NEXT RUN/m);
  assert.match(
    table.stdout,
    new RegExp(
      `^demo-host\\s+${rig.server}\\s+drill\\s+drill every 1d, 50 files\\s+\\d{4}-.*SUCCESS: restore drill.*\\sno$`,
      'm',
    ),
  );
  assert.match(table.stdout, new RegExp(`^demo-host\\s+${rig.server}\\s+backup\\s`, 'm'));
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

  // Monitoring heard the failure: the webhook, a failure mail, Zabbix's drill status 2 (and no last success).
  const [delivery] = drillDeliveries(drill.runId);
  assert.equal(delivery?.drill.status, 'FAILED');
  assert.equal(delivery.drill.mismatched, 1);
  assert.equal(delivery.drill.previousStatus, 'SUCCESS');
  const [mail, ...moreMail] = drillMails('FAILED');
  assert.deepEqual(moreMail, []);
  assert.deepEqual(mail?.to, ['ops@example.org']);
  assert.match(mail.text, /^The restore drill of demo-host on \S+ failed\.$/m);
  assert.match(mail.text, /^Status: +FAILED \(previous drill: SUCCESS\)$/m);
  assert.match(mail.text, /^Differing: 1$/m);
  assert.ok(mail.text.includes(drill.runId), 'names the run');
  const items = drillItems();
  assert.equal(items['tidemark.drill.status'], '2');
  assert.equal(items['tidemark.drill.mismatched'], '1');
  assert.equal(items['tidemark.drill.last_success'], undefined);
  assert.ok(
    drill.report.notifications?.every((note) => note.ok),
    JSON.stringify(drill.report.notifications),
  );
});

test('the next passing drill after a failed one mails a recovery and the webhook says recovery', async () => {
  // The host's file again in a newer snapshot: the copy matches.
  const copy = join(await rig.copyPath(), rig.source, 'kept.txt');
  const stat = await lstat(copy);
  await writeFile(copy, await readFile(join(rig.source, 'kept.txt')));
  await utimes(copy, stat.atime, stat.mtime);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await zfs(['snapshot', `${rig.dataset}@${snapshotName(new Date())}`]);

  const drill = await triggeredDrill(seen);
  assert.equal(drill.status, 'SUCCESS', JSON.stringify(drill.report));
  const [delivery] = drillDeliveries(drill.runId);
  assert.equal(delivery?.recovery, true);
  assert.equal(delivery.drill.previousStatus, 'FAILED');
  assert.equal(drillMails('RECOVERED').length, 1);
  assert.match(
    drillMails('RECOVERED')[0]!.text,
    /^The restore drill of demo-host on \S+ succeeded again after failing\.$/m,
  );
  assert.equal(drillItems()['tidemark.drill.status'], '0');
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

  // A drill that could not run is told too: FAILED with the error, before the workflow fails.
  const [delivery] = drillDeliveries(description.runId);
  assert.equal(delivery?.drill.status, 'FAILED');
  assert.match(delivery.drill.message, /^restore drill failed: hosts\.demo-host: no verify\.every for server/);
  assert.equal(delivery.drill.verified, 0);
  assert.ok(
    drillMails('FAILED').some((mail) => mail.text.includes(description.runId)),
    'a failure mail for this run',
  );
});
