// Fleet visibility, end to end: runs carry the TidemarkHost/Server/Status/Bytes search attributes, the
// Temporal CLI finds a hook-failed run by them, and `tidemark status` judges three hosts × two servers
// (one pair fresh, one failed in a hook, the rest never run: the second server has no worker).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time.js';
import { execa } from 'execa';
import { waitFor } from '../devenv/process.js';
import { temporalCli } from '../devenv/temporal-dev.js';
import { backupWorkflowId } from '../domain/names.js';
import { bytesAttribute, hostAttribute, serverAttribute, statusAttribute } from '../domain/search-attributes.js';
import type { PairStatus } from '../fleet/verdict.js';
import { serverPollers } from '../client/worker-check.js';
import type { BackupSummary } from '../domain/backup.js';
import { zfs } from '../pool/zfs.js';
import { addSecondServer, editInventory, setHostSettings } from './helpers/inventory-edit.js';
import { parseNagiosLine } from './helpers/nagios.js';
import { cliPath, createRig, testServices, type Rig } from './helpers/rig.js';

let rig: Rig;
let otherServer: string;
const freshHost = 'fresh-host';
const neverHost = 'never-host';
/** Runs of this file: workflow id and run id of each, by what they are. */
const runs: Record<'demoSuccess' | 'demoHookFailed' | 'fresh', { workflowId: string; runId: string }> = {} as never;

before(async () => {
  rig = await createRig('fleet');
  const hooksDir = join(rig.dir, 'backup-scripts');
  mkdirSync(hooksDir);
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  otherServer = `${rig.server}-b`;
  editInventory(rig, (inventory) => {
    const demo = inventory.hosts[rig.hostName];
    // Same loopback sshd and tree, other names: every host is backed up on both servers.
    inventory.hosts[freshHost] = { ...demo };
    inventory.hosts[neverHost] = { ...demo };
  });
  addSecondServer(rig, otherServer);
  setHostSettings(rig, { hooks: { dir: hooksDir, timeout: '20s' } });
  await rig.startWorker();

  runs.demoSuccess = await backup(rig.hostName, 0);
  writeFileSync(join(hooksDir, '20-dump-db'), '#!/bin/bash\necho "pg_dump: connection to server failed" >&2\nexit 3\n');
  chmodSync(join(hooksDir, '20-dump-db'), 0o755);
  runs.demoHookFailed = await backup(rig.hostName, 1);
  runs.fresh = await backup(freshHost, 0);
});
after(async () => {
  await rig?.close();
  await zfs(['destroy', '-r', '-f', `${rig.dataset.split('/').slice(0, -1).join('/')}b`]).catch(() => undefined);
});

/** One `start-backup --wait` on the rig's server; returns the run it started. */
async function backup(host: string, expectedExit: number): Promise<{ workflowId: string; runId: string }> {
  const result = await rig.cli(['start-backup', '--host', host, '--server', rig.server, '--wait']);
  assert.equal(result.exitCode, expectedExit, result.stdout + result.stderr);
  const runId = /started \S+ run (\S+)/.exec(result.stdout)?.[1];
  assert.ok(runId, result.stdout);
  return { workflowId: backupWorkflowId(host, rig.server), runId };
}

test('"tidemark temporal setup" registers the five attributes (four on runs, the spec hash on schedules) in a new namespace, and a second run changes nothing', async () => {
  const namespace = `tidemark-setup-${process.pid}`;
  await rig.client.connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  editInventory(rig, (inventory) => {
    inventory.temporal.namespace = namespace;
  });
  try {
    // Before setup, starting a run is refused with the command that fixes it (once the frontend knows the
    // namespace: a namespace just registered takes it a moment).
    let refused: Awaited<ReturnType<Rig['cli']>> | undefined;
    await waitFor(
      `namespace ${namespace}`,
      async () =>
        /search attribute/.test(
          (refused = await rig.cli(['start-backup', '--host', freshHost, '--server', rig.server])).stderr,
        ),
      30_000,
    );
    assert.equal(refused!.exitCode, 2, refused!.stdout + refused!.stderr);
    assert.match(
      refused!.stderr,
      /^tidemark: Temporal does not know Tidemark's search attributes \(.*search attribute Tidemark(Host|Server|Status|Bytes)\b.*\); run "tidemark temporal setup" once for this namespace$/m,
    );
    // A worker refuses to start there too: its runs would stall on their first upsert.
    const worker = await execa(
      process.execPath,
      [cliPath, '--config', rig.inventoryPath, 'worker', '--server', rig.server],
      { reject: false, timeout: 60_000, env: { TEMPORAL_ADDRESS: testServices().temporal } },
    );
    assert.equal(worker.exitCode, 2, worker.stdout + worker.stderr);
    assert.match(
      worker.stderr,
      /namespace "tidemark-setup-\d+" lacks Tidemark's search attributes TidemarkHost, TidemarkServer, TidemarkStatus, TidemarkBytes: run "tidemark temporal setup" once, then start the worker/,
    );
    let first: Awaited<ReturnType<Rig['cli']>> | undefined;
    await waitFor(
      `namespace ${namespace}`,
      async () => (first = await rig.cli(['temporal', 'setup', '--json'])).exitCode === 0,
      30_000,
    );
    assert.deepEqual(JSON.parse(first!.stdout), {
      namespace,
      added: ['TidemarkHost', 'TidemarkServer', 'TidemarkStatus', 'TidemarkBytes', 'TidemarkSpecHash'],
      present: [],
    });
    const second = await rig.cli(['temporal', 'setup', '--json']);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), {
      namespace,
      added: [],
      present: ['TidemarkHost', 'TidemarkServer', 'TidemarkStatus', 'TidemarkBytes', 'TidemarkSpecHash'],
    });
    const listed = await rig.client.connection.operatorService.listSearchAttributes({ namespace });
    const types = Object.fromEntries(
      ['TidemarkHost', 'TidemarkServer', 'TidemarkStatus', 'TidemarkBytes', 'TidemarkSpecHash'].map((name) => [
        name,
        listed.customAttributes![name],
      ]),
    );
    assert.deepEqual(
      types,
      { TidemarkHost: 2, TidemarkServer: 2, TidemarkStatus: 2, TidemarkBytes: 3, TidemarkSpecHash: 2 },
      'Keyword ×4, Int',
    );
  } finally {
    editInventory(rig, (inventory) => {
      delete inventory.temporal.namespace;
    });
  }
});

test('every run carries host, server, final status and bytes, and a "host → server" summary', async () => {
  const expected = {
    demoSuccess: [rig.hostName, 'SUCCESS'],
    demoHookFailed: [rig.hostName, 'FAILED'],
    fresh: [freshHost, 'SUCCESS'],
  } as const;
  for (const [name, [host, status]] of Object.entries(expected)) {
    const run = runs[name as keyof typeof runs];
    const description = await rig.client.workflow.getHandle(run.workflowId, run.runId).describe();
    const attributes = description.typedSearchAttributes;
    assert.deepEqual(
      [attributes.get(hostAttribute), attributes.get(serverAttribute), attributes.get(statusAttribute)],
      [host, rig.server, status],
      name,
    );
    // The hook failed but the copy was made (SOWN behaviour): its bytes are recorded too.
    const summary = (await rig.client.workflow.getHandle(run.workflowId, run.runId).result()) as BackupSummary;
    assert.equal(attributes.get(bytesAttribute), summary.bytesTransferred, name);
    if (name !== 'demoHookFailed') assert.ok(summary.bytesTransferred > 0, `${name}: a first copy sends data`);
    assert.equal(await description.staticSummary(), `${host} → ${rig.server}`);
    // The transfer step is labelled in the UI's event list too.
    const history = await rig.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const transfer = history.events!.find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'transferFiles',
    );
    assert.equal(
      defaultPayloadConverter.fromPayload(transfer!.userMetadata!.summary!),
      `rsync ${host} → ${rig.server}`,
    );
  }
});

test("temporal workflow list --query \"TidemarkHost='demo-host' AND TidemarkStatus='FAILED'\" finds the hook-failed run and not the good one", async () => {
  const { temporal } = testServices();
  const list = async (query: string) => {
    const result = await execa(temporalCli(), [
      'workflow',
      'list',
      '--address',
      temporal,
      '--query',
      query,
      '--output',
      'json',
    ]);
    return (JSON.parse(result.stdout || '[]') as { execution: { workflowId: string; runId: string } }[]).map(
      (row) => row.execution,
    );
  };
  let found: { workflowId: string; runId: string }[] = [];
  // Visibility is updated asynchronously after the run closes.
  await waitFor(
    'the failed run in visibility',
    async () =>
      (found = await list("TidemarkHost='demo-host' AND TidemarkStatus='FAILED'")).some(
        (row) => row.runId === runs.demoHookFailed.runId,
      ),
    20_000,
  );
  // Other test files back up "demo-host" too (on their own servers): of this server's runs, only the hook-failed one.
  assert.deepEqual(
    found.filter((row) => row.workflowId === runs.demoHookFailed.workflowId),
    [runs.demoHookFailed],
  );
  const narrowed = await list(
    `TidemarkHost='demo-host' AND TidemarkServer='${rig.server}' AND TidemarkStatus='FAILED'`,
  );
  assert.deepEqual(narrowed, [runs.demoHookFailed]);
  const good = await list(`TidemarkHost='demo-host' AND TidemarkServer='${rig.server}' AND TidemarkStatus='SUCCESS'`);
  assert.deepEqual(good, [runs.demoSuccess]);
});

test('status --json: the fresh pair OK, the hook-failed pair FAILED with its earlier success, never-run pairs as such', async () => {
  const result = await rig.cli(['status', '--json']);
  assert.equal(result.exitCode, 2, result.stdout + result.stderr);
  const rows = JSON.parse(result.stdout) as PairStatus[];
  const byPair = new Map(rows.map((row) => [`${row.host}@${row.server}`, row]));
  assert.equal(rows.length, 6, 'three hosts × two servers');
  const fresh = byPair.get(`${freshHost}@${rig.server}`)!;
  assert.equal(fresh.lastStatus, 'SUCCESS');
  assert.equal(fresh.verdict, 'OK');
  assert.ok(fresh.lastSuccessAt && fresh.lastRunAt && Date.parse(fresh.lastSuccessAt) >= Date.parse(fresh.lastRunAt));
  assert.ok(Date.now() - Date.parse(fresh.lastSuccessAt) < 10 * 60_000, 'just now');
  assert.ok(fresh.lastRunBytes! > 0);
  const failed = byPair.get(`${rig.hostName}@${rig.server}`)!;
  assert.equal(failed.lastStatus, 'FAILED');
  assert.equal(failed.verdict, 'CRITICAL');
  // The row says why: the failure's first line.
  assert.equal(failed.reasons.length, 1);
  assert.match(failed.reasons[0]!, /^last run FAILED: hook \S+\/20-dump-db \(exit 3\) failed; output: /);
  // The earlier good run is the last success: it ended before the failed run started.
  assert.ok(failed.lastSuccessAt && Date.parse(failed.lastSuccessAt) <= Date.parse(failed.lastRunAt!));
  for (const pair of [
    `${neverHost}@${rig.server}`,
    `${rig.hostName}@${otherServer}`,
    `${freshHost}@${otherServer}`,
    `${neverHost}@${otherServer}`,
  ]) {
    const row = byPair.get(pair)!;
    assert.deepEqual(
      [row.lastStatus, row.lastRunAt, row.lastSuccessAt, row.verdict, row.reasons],
      [null, null, null, 'CRITICAL', ['never backed up']],
      pair,
    );
  }
  const table = await rig.cli(['status']);
  assert.equal(table.exitCode, 2);
  assert.match(table.stdout, new RegExp(`${neverHost}\\s+${otherServer}\\s+never run`));
});

test('status exit codes: --stale 1h is 2 for the fleet, 0 for the fresh pair alone, 1 once that pair is stale', async () => {
  assert.equal((await rig.cli(['status', '--stale', '1h'])).exitCode, 2);
  const fresh = await rig.cli(['status', '--host', freshHost, '--server', rig.server, '--stale', '1h']);
  assert.equal(fresh.exitCode, 0, fresh.stdout + fresh.stderr);
  assert.match(fresh.stdout, new RegExp(`${freshHost}\\s+${rig.server}\\s+SUCCESS`));
  // The success is seconds old: a 1s limit makes the same pair stale, which is a WARNING.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const stale = await rig.cli(['status', '--host', freshHost, '--server', rig.server, '--stale', '1s', '--json']);
  assert.equal(stale.exitCode, 1, stale.stdout + stale.stderr);
  assert.match((JSON.parse(stale.stdout) as PairStatus[])[0]!.reasons[0]!, /older than --stale/);
  const bad = await rig.cli(['status', '--stale', 'soon']);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /--stale: "soon" is not a duration; write e\.g\. 36h/);
});

test('status --nagios prints one plugin line with perfdata; UNKNOWN (3) when Temporal cannot be reached', async () => {
  const result = await rig.cli(['status', '--nagios', '--stale', '1h']);
  assert.equal(result.exitCode, 2);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines.length, 1, result.stdout);
  const parsed = parseNagiosLine(lines[0]!);
  assert.equal(parsed.status, 'CRITICAL');
  assert.match(parsed.text, /5 critical, 0 warning of 6 pairs: demo-host@\S+ last run FAILED/);
  assert.equal(parsed.perfdata.get('pairs')!.value, 6);
  assert.equal(parsed.perfdata.get('ok')!.value, 1);
  assert.equal(parsed.perfdata.get('never')!.value, 4);
  assert.equal(parsed.perfdata.get('oldest_success_age')!.fields[0], '3600');
  const ok = parseNagiosLine(
    (await rig.cli(['status', '--nagios', '--host', freshHost, '--server', rig.server])).stdout.trim(),
  );
  assert.equal(ok.status, 'OK');

  // TEMPORAL_ADDRESS wins over the inventory: a port where nothing listens.
  const down = await execa(process.execPath, [cliPath, '--config', rig.inventoryPath, 'status', '--nagios'], {
    reject: false,
    env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
  });
  assert.equal(down.exitCode, 3, down.stdout + down.stderr);
  assert.match(down.stdout, /^TIDEMARK UNKNOWN: cannot connect to Temporal at 127\.0\.0\.1:1/);
});

test('start-backup --wait with no worker for the server says so (after its 15 s grace) and names the command that starts one', async () => {
  // The second server has no worker: its steps would sit in the queue, silently, forever. The CLI keeps
  // waiting after the notice, so it is stopped once the notice is out (no fixed deadline: a busy machine
  // makes the CLI's start and Temporal's answers slow, not the notice wrong).
  const waiting = execa(
    process.execPath,
    [cliPath, '--config', rig.inventoryPath, 'start-backup', '--host', neverHost, '--server', otherServer, '--wait'],
    { reject: false, env: { TEMPORAL_ADDRESS: testServices().temporal } },
  );
  let stderr = '';
  waiting.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor('the no-worker notice', async () => stderr.includes('no live worker serves'), 180_000).finally(() =>
    waiting.kill(),
  );
  await waiting;
  const workflowId = backupWorkflowId(neverHost, otherServer);
  await rig.client.workflow
    .getHandle(workflowId)
    .terminate('test: no worker on purpose')
    .catch(() => undefined);
  assert.match(
    stderr,
    new RegExp(
      `no live worker serves tidemark-server-${otherServer}: the backup waits until one does\\. On the backup server "${otherServer}" run: systemctl restart tidemark-worker@${otherServer} \\(or: tidemark worker --server ${otherServer}\\)`,
    ),
  );
  // The question asked: the rig's server has its worker polling, the other one none.
  assert.ok((await serverPollers(rig.client, rig.server)) >= 1);
  assert.equal(await serverPollers(rig.client, otherServer), 0);
});
