// A schedule fired while a backup of that (host, server) runs does not start a
// second one; the scheduled run records "skipped: already running". And when none runs, it starts the
// backup under the fixed id as a child.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../devenv/process.js';
import { backupWorkflowId } from '../domain/names.js';
import { hostAttribute, serverAttribute, statusAttribute } from '../domain/search-attributes.js';
import type { ScheduledBackupResult } from '../domain/schedule-spec.js';
import { backupScheduleId } from '../schedule/desired.js';
import { createSandbox, type Sandbox } from './helpers/schedules.js';

let box: Sandbox;
let server: string;
let inventoryPath: string;
const host = 'vpn';

before(async () => {
  box = await createSandbox('trigger');
  server = box.server('b1');
  const inventory = {
    servers: { [server]: { dataset: 'data' } },
    sync: { enabled: false },
    hosts: { [host]: { address: '10.3.0.1', schedule: { cron: '0 0 1 1 *' } } },
  };
  inventoryPath = await box.writeInventory(inventory);
  const report = await box.sync(inventory);
  assert.equal(report.created, 1, report.errors.join('\n'));
  await box.startWorker(inventoryPath);
});
after(() => box.close());

/** Runs with the fixed backup id, newest first (visibility is eventually consistent: poll). */
async function backupRuns(): Promise<Array<{ runId: string; status: string }>> {
  const runs = [];
  for await (const run of box.client.workflow.list({ query: `WorkflowId = '${backupWorkflowId(host, server)}'` }))
    runs.push({ runId: run.runId, status: run.status.name });
  return runs;
}

test('triggered while a backup of the pair runs: the scheduled run is skipped and no second backup starts', async () => {
  // A backup that stays RUNNING: the fixed id on a queue no worker polls.
  const blocker = await box.client.workflow.start('backupHost', {
    workflowId: backupWorkflowId(host, server),
    taskQueue: `nobody-polls-${box.suffix}`,
    args: [{ host, server }],
  });
  const schedule = box.client.schedule.getHandle(backupScheduleId(host, server));
  assert.equal((await schedule.describe()).policies.overlap, 'SKIP');

  const trigger = await box.cli(inventoryPath, ['trigger', '--host', host]);
  assert.equal(trigger.exitCode, 3, trigger.stdout + trigger.stderr);
  assert.match(
    trigger.stdout,
    new RegExp(
      `^${host}@${server}: skipped: already running \\(backup:${host}@${server}\\); scheduled-backup:${host}@${server}-\\S+ ended$`,
      'm',
    ),
  );

  const action = (await schedule.describe()).info.recentActions.at(-1)!.action.workflow;
  const scheduledRun = box.client.workflow.getHandle(action.workflowId, action.firstExecutionRunId);
  const result = (await scheduledRun.result()) as ScheduledBackupResult;
  assert.equal(result.outcome, 'skipped');
  assert.equal(
    result.message,
    `skipped: already running (a backup of ${host} on ${server} holds backup:${host}@${server})`,
  );
  // The scheduled run is found by its pair in the UI, and says it skipped.
  const parentAttributes = (await scheduledRun.describe()).typedSearchAttributes;
  assert.deepEqual(
    [parentAttributes.get(hostAttribute), parentAttributes.get(serverAttribute), parentAttributes.get(statusAttribute)],
    [host, server, 'SKIPPED'],
  );

  await waitFor('the blocker is listed', async () => (await backupRuns()).length >= 1);
  const runs = await backupRuns();
  assert.deepEqual(
    runs,
    [{ runId: blocker.firstExecutionRunId, status: 'RUNNING' }],
    'still exactly one backup run: the original',
  );

  // A second trigger straight through Temporal (overlap ALLOW_ALL, the SDK default) is just as harmless.
  await schedule.trigger();
  await waitFor('two scheduled runs', async () => (await schedule.describe()).info.recentActions.length === 2);
  const second = (await schedule.describe()).info.recentActions.at(-1)!.action.workflow;
  assert.equal(
    (
      (await box.client.workflow
        .getHandle(second.workflowId, second.firstExecutionRunId)
        .result()) as ScheduledBackupResult
    ).outcome,
    'skipped',
  );
  assert.equal((await backupRuns()).length, 1);
  // The same as JSON: skipped again (the blocker still runs), with the scheduled run that said so.
  const asJson = await box.cli(inventoryPath, ['trigger', '--host', host, '--json']);
  assert.equal(asJson.exitCode, 3, asJson.stdout + asJson.stderr);
  const [report] = JSON.parse(asJson.stdout) as Array<Record<string, string>>;
  assert.equal(report?.outcome, 'skipped');
  assert.equal(report?.backupWorkflowId, backupWorkflowId(host, server));
  assert.match(report?.scheduledWorkflowId ?? '', new RegExp(`^scheduled-backup:${host}@${server}-`));
  await blocker.terminate('test: make way');
});

test("with no backup running, a trigger starts backupHost under the fixed id as the scheduled run's child", async () => {
  const trigger = await box.cli(inventoryPath, ['trigger', '--host', host, '--server', server]);
  assert.equal(trigger.exitCode, 0, trigger.stdout + trigger.stderr);
  assert.match(
    trigger.stdout,
    new RegExp(
      `^${host}@${server}: started scheduled-backup:${host}@${server}-\\S+ → backup:${host}@${server} run \\S+$`,
      'm',
    ),
  );
  const backup = await box.client.workflow.getHandle(backupWorkflowId(host, server)).describe();
  assert.equal(backup.status.name, 'RUNNING');
  assert.match(backup.parentExecution?.workflowId ?? '', new RegExp(`^scheduled-backup:${host}@${server}-`));
  // The child starts tagged with its pair and RUNNING, and with the UI's one-line summary.
  assert.deepEqual(
    [
      backup.typedSearchAttributes.get(hostAttribute),
      backup.typedSearchAttributes.get(serverAttribute),
      backup.typedSearchAttributes.get(statusAttribute),
    ],
    [host, server, 'RUNNING'],
  );
  assert.equal(await backup.staticSummary(), `${host} → ${server}`);
  // An ad-hoc start-style request with the fixed id is refused while it runs (start-backup joins it).
  await assert.rejects(
    box.client.workflow.start('backupHost', {
      workflowId: backupWorkflowId(host, server),
      taskQueue: box.taskQueue,
      args: [{ host, server }],
      workflowIdConflictPolicy: 'FAIL',
    }),
    /already started/i,
  );
  await box.client.workflow.getHandle(backupWorkflowId(host, server)).terminate('test: done');
});
