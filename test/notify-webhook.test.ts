// Acceptance 5: a webhook receiver (a local HTTP server) gets exactly one signed delivery per run; when
// it answers 500 or refuses connections the delivery is retried and the backup still ends successful,
// with the failure in the summary and the history. healthchecks pings go along: /start, then the
// plain URL, /fail or /log. A cancelled run is notified too (CANCELLED).
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { BackupSummary } from '../domain/backup.js';
import { backupWorkflowId } from '../domain/names.js';
import { waitFor } from '../devenv/process.js';
import type { WebhookBody } from '../notify/webhook.js';
import { backupWithHostDown, createRig, recordCliOutput, processesMatching, type Rig } from './helpers/rig.js';
import { activityRecord, allRunsText } from './helpers/history.js';
import { docsWebhookVerifier, type WebhookVerifier } from './helpers/docs-webhook.js';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from './helpers/fake-servers.js';
import { editInventory } from './helpers/inventory-edit.js';

const secret = 'test-webhook-secret';
let rig: Rig;
let hooks: HttpReceiver;
let pings: HttpReceiver;
let verify: WebhookVerifier;
let secretFile: string;
/** What the CLI printed in this file's runs: searched for the secret at the end. */
const cliOutput: string[] = [];

before(async () => {
  verify = await docsWebhookVerifier();
  rig = await createRig('webhook');
  recordCliOutput(rig, cliOutput);
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  hooks = await startHttpReceiver();
  pings = await startHttpReceiver();
  secretFile = join(rig.dir, 'webhook.secret');
  writeFileSync(secretFile, `${secret}\n`);
  chmodSync(secretFile, 0o600);
  editInventory(rig, (inventory) => {
    inventory.notify = [
      { type: 'webhook', url: `${hooks.url}/hook/{host}`, secretFile, attempts: 3 },
      { type: 'healthchecks', url: `${pings.url}/ping/{host}-{server}`, attempts: 2 },
    ];
  });
  await rig.startWorker();
});
after(async () => {
  await rig.close();
  await hooks.close();
  await pings.close();
});

const handle = () => rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server));

/** Checks a delivery the way docs/how-to/monitoring.md tells receivers to (its snippet, run as printed there). */
function assertSigned(request: ReceivedRequest): WebhookBody {
  assert.ok(
    verify(secret, request.headers, request.body),
    'signature of "<timestamp>.<raw body>" verifies, timestamp fresh',
  );
  const expected = `sha256=${createHmac('sha256', secret).update(`${request.headers['x-tidemark-timestamp']}.${request.body}`).digest('hex')}`;
  assert.equal(request.headers['x-tidemark-signature'], expected);
  assert.ok(
    Math.abs(Number(request.headers['x-tidemark-timestamp']) - Date.now() / 1000) < 120,
    'timestamp is the sending time',
  );
  assert.equal(request.headers['content-type'], 'application/json');
  return JSON.parse(request.body) as WebhookBody;
}

/** The ping paths of one run, in arrival order, with the run id checked. */
function pingPaths(runId: string): string[] {
  return pings.requests
    .filter((request) => new URL(request.url, pings.url).searchParams.get('rid') === runId)
    .map((request) => new URL(request.url, pings.url).pathname);
}

test('a good run: exactly one signed delivery with the summary and run id; healthchecks start then success', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr);
  const description = await handle().describe();
  const summary = (await handle().result()) as BackupSummary;

  assert.equal(hooks.requests.length, 1, 'exactly one delivery');
  const delivery = hooks.requests[0]!;
  assert.equal(delivery.method, 'POST');
  assert.equal(delivery.url, '/hook/demo-host');
  assert.equal(delivery.headers['x-tidemark-delivery'], description.runId);
  const body = assertSigned(delivery);
  assert.equal(body.event, 'backup.finished');
  assert.equal(body.runId, description.runId);
  assert.equal(body.workflowId, backupWorkflowId(rig.hostName, rig.server));
  assert.match(body.url, new RegExp(`/workflows/${encodeURIComponent(body.workflowId)}/${body.runId}/history$`));
  assert.equal(body.summary.status, 'SUCCESS');
  assert.equal(body.summary.snapshot, summary.snapshot);
  assert.equal(body.summary.filesTransferred, summary.filesTransferred);

  const base = `/ping/demo-host-${rig.server}`;
  assert.deepEqual(pingPaths(description.runId), [`${base}/start`, base]);
  assert.match(pings.requests.at(-1)!.body, /^BACKUP OK - \d+ files, \d+ bytes in .*, snapshot \S+@tidemark-/);

  assert.deepEqual(
    summary.notifications?.map(({ target, type, ok }) => ({ target, type, ok })),
    [
      { target: 'notify.0', type: 'webhook', ok: true },
      { target: 'notify.1', type: 'healthchecks', ok: true },
    ],
  );
});

test('the receiver answers 500 twice: the delivery is retried, arrives once, and the backup succeeds', async () => {
  hooks.requests.length = 0;
  let refusals = 2;
  hooks.respond = () => (refusals-- > 0 ? 500 : 200);
  try {
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /SUCCESS: demo-host/);
  } finally {
    hooks.respond = () => 200;
  }
  const { runId } = await handle().describe();
  assert.deepEqual(
    hooks.requests.map((request) => request.status),
    [500, 500, 200],
  );
  assert.equal(hooks.requests.filter((request) => request.status === 200).length, 1, 'one accepted delivery');
  for (const request of hooks.requests) {
    assert.equal(request.headers['x-tidemark-delivery'], runId, 'every attempt carries the same delivery id');
    assert.equal(assertSigned(request).summary.status, 'SUCCESS');
  }
  const summary = (await handle().result()) as BackupSummary;
  assert.equal(summary.status, 'SUCCESS');
  assert.equal(summary.notifications?.find((note) => note.type === 'webhook')?.ok, true);
  assert.ok(
    (await activityRecord(rig.client, backupWorkflowId(rig.hostName, rig.server), 'notifyTarget')).attempts.includes(3),
    'third attempt delivered',
  );
});

test('the receiver is down: delivery is retried up to its attempts, the backup is still SUCCESS and says so', async () => {
  const port = hooks.port;
  await hooks.close();
  let run;
  try {
    run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  } finally {
    hooks = await startHttpReceiver(port);
  }
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stdout, /SUCCESS: demo-host/);
  assert.match(
    run.stderr,
    /notify notify\.0 \(webhook\) failed: POST http:\/\/127\.0\.0\.1:\d+: .*(ECONNREFUSED|refused)/,
  );

  const summary = (await handle().result()) as BackupSummary;
  assert.equal(summary.status, 'SUCCESS');
  const webhook = summary.notifications?.find((note) => note.type === 'webhook');
  assert.equal(webhook?.ok, false);
  assert.match(webhook?.error ?? '', /ECONNREFUSED|refused/);
  assert.equal(
    summary.notifications?.find((note) => note.type === 'healthchecks')?.ok,
    true,
    'the other target is unaffected',
  );

  const workflowId = backupWorkflowId(rig.hostName, rig.server);
  assert.ok((await activityRecord(rig.client, workflowId, 'notifyTarget')).attempts.includes(3), 'three attempts');
  const history = await rig.client.workflow.getHandle(workflowId).fetchHistory();
  const failures = (history.events ?? []).filter((event) => event.activityTaskFailedEventAttributes);
  assert.equal(failures.length, 1, 'the failed notify activity is in the history');
  assert.match(failures[0]!.activityTaskFailedEventAttributes!.failure?.message ?? '', /ECONNREFUSED|refused/);
});

test('a failed backup is delivered as FAILED, pings /fail, and the run still fails', async () => {
  hooks.requests.length = 0;
  const run = await backupWithHostDown(rig);
  assert.equal(run.exitCode, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /FAILED: .*failed during [a-z-]+: .*root@127\.\S+ exited 255/);
  const { runId, status } = await handle().describe();
  assert.equal(status.name, 'FAILED');

  assert.equal(hooks.requests.length, 1);
  const body = assertSigned(hooks.requests[0]!);
  assert.equal(body.summary.status, 'FAILED');
  assert.equal(body.summary.snapshot, null);
  assert.match(body.summary.message, /^backup of demo-host on srv-webhook-\S+ failed during [a-z-]+: .*exited 255/);
  const base = `/ping/demo-host-${rig.server}`;
  assert.deepEqual(pingPaths(runId), [`${base}/start`, `${base}/fail`]);
  assert.match(pings.requests.at(-1)!.body, /^BACKUP CRITICAL - backup of demo-host/);

  // The workflow's failure carries the summary, notifications included.
  const failure = await handle()
    .result()
    .catch((error: unknown) => error);
  assert.ok(failure instanceof WorkflowFailedError);
  const details = (failure.cause as { details?: unknown[] } | undefined)?.details?.[0] as BackupSummary | undefined;
  assert.equal(details?.status, 'FAILED');
  assert.deepEqual(
    details?.notifications?.map((note) => note.ok),
    [true, true],
  );
});

test('a cancelled backup is still notified: CANCELLED, healthchecks /log, the run ends Cancelled', async () => {
  hooks.requests.length = 0;
  editInventory(rig, (inventory) => {
    inventory.hosts[rig.hostName].transfer.bandwidthLimit = '1M';
  });
  writeFileSync(join(rig.source, 'big.bin'), randomBytes(16 * 1024 * 1024));
  try {
    const started = await rig.cli(['start-backup', '--host', rig.hostName]);
    assert.equal(started.exitCode, 0, started.stderr);
    const { runId } = await handle().describe();
    await waitFor('rsync running', async () => (await processesMatching(rig.source)).length >= 2, 30_000);
    const cancelled = await rig.cli(['cancel-backup', '--host', rig.hostName]);
    assert.equal(cancelled.exitCode, 0, cancelled.stderr);
    await waitFor('run closed', async () => (await handle().describe()).status.name !== 'RUNNING', 30_000);
    assert.equal((await handle().describe()).status.name, 'CANCELLED');

    assert.equal(hooks.requests.length, 1, 'one delivery for the cancelled run');
    const body = assertSigned(hooks.requests[0]!);
    assert.equal(body.runId, runId);
    assert.equal(body.summary.status, 'CANCELLED');
    assert.match(body.summary.message, /cancelled during transfer/);
    const base = `/ping/demo-host-${rig.server}`;
    assert.deepEqual(pingPaths(runId), [`${base}/start`, `${base}/log`]);
  } finally {
    editInventory(rig, (inventory) => {
      delete inventory.hosts[rig.hostName].transfer.bandwidthLimit;
    });
  }
});

test('a state file that cannot be written: the targets are still told, the run stays SUCCESS and names the problem', async () => {
  hooks.requests.length = 0;
  // A regular file where the state file's folder should be: every write fails with ENOTDIR.
  writeFileSync(join(rig.dir, 'not-a-dir'), '');
  let previous: unknown;
  editInventory(rig, (inventory) => {
    previous = inventory.servers[rig.server].stateFile;
    inventory.servers[rig.server].stateFile = join(rig.dir, 'not-a-dir', 'state.json');
  });
  try {
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(hooks.requests.length, 1, 'the webhook is delivered once');
    const summary = (await handle().result()) as BackupSummary;
    assert.equal(summary.status, 'SUCCESS');
    const state = summary.notifications?.find((note) => note.type === 'state');
    assert.equal(state?.ok, false);
    assert.match(state?.error ?? '', /not-a-dir\/state\.json: .*ENOTDIR/);
    assert.equal(summary.notifications?.find((note) => note.type === 'webhook')?.ok, true);
  } finally {
    editInventory(rig, (inventory) => {
      inventory.servers[rig.server].stateFile = previous;
    });
  }
});

test('a secret file others can read is refused: no delivery, the fix is named, the backup is still SUCCESS', async () => {
  hooks.requests.length = 0;
  chmodSync(secretFile, 0o644);
  try {
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(run.exitCode, 0, run.stderr);
    const expected = `the webhook secret file ${secretFile} is open to group or others (mode 644); run: chmod 600 ${secretFile}`;
    assert.ok(run.stderr.includes(`notify notify.0 (webhook) failed: ${expected}`), run.stderr);
    assert.equal(hooks.requests.length, 0, 'nothing was sent');
    const summary = (await handle().result()) as BackupSummary;
    assert.equal(summary.status, 'SUCCESS');
    assert.equal(summary.notifications?.find((note) => note.type === 'webhook')?.error, expected);
    assert.deepEqual(
      (await activityRecord(rig.client, backupWorkflowId(rig.hostName, rig.server), 'notifyTarget')).attempts,
      [1, 1],
      'not retried (healthchecks is the other one)',
    );
  } finally {
    chmodSync(secretFile, 0o600);
  }
});

test("the webhook secret is in no history of this file's runs, no worker output and no CLI output", async () => {
  const { runs, text } = await allRunsText(rig.client, backupWorkflowId(rig.hostName, rig.server));
  assert.ok(runs >= 6, `every run of this file is searched (found ${runs})`);
  assert.ok(
    text.includes('backup.finished') || text.includes('notify.0'),
    'the histories hold the notify steps (sanity check of the search)',
  );
  assert.ok(!text.includes(secret), 'secret in a history');
  assert.ok(rig.workerOutput().includes('polling'), 'the worker output was captured');
  assert.ok(!rig.workerOutput().includes(secret), 'secret in the worker output');
  assert.ok(cliOutput.length >= 12 && !cliOutput.join('\n').includes(secret), 'secret in the CLI output');
});
