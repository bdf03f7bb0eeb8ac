// A dead worker is noticed: the worker refreshes its sign of life (a Schedule's note, read through Temporal
// alone); killed with SIGKILL (no goodbye), `start-backup --wait` and `restore --wait` say that no live
// worker serves the server's queue, and what to run, while their run still waits (it cannot complete
// without a worker). No wall-clock assertion: the order of events is what is checked.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { waitFor } from '../devenv/process.js';
import { livenessOf } from '../client/worker-check.js';
import { cliPath, createRig, testServices, type Rig } from './helpers/rig.js';
import { buildSampleTree } from './helpers/tree.js';

let rig: Rig;

before(async () => {
  rig = await createRig('liveness');
  await buildSampleTree(rig.source);
});
after(async () => {
  await rig?.close();
});

/** Runs the CLI until `notice` is on its stderr; returns stderr and the workflow id it started. */
async function waitForNotice(args: string[], notice: string): Promise<{ stderr: string; workflowId: string }> {
  const waiting = execa(process.execPath, [cliPath, '--config', rig.inventoryPath, ...args], {
    reject: false,
    env: { TEMPORAL_ADDRESS: testServices().temporal },
  });
  let stderr = '';
  let stdout = '';
  waiting.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  waiting.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  try {
    await waitFor(`"${notice}" from ${args[0]}`, async () => stderr.includes(notice), 180_000);
  } finally {
    waiting.kill();
    await waiting;
  }
  // start-backup says "started <id> run ..." on stdout, restore on stderr.
  const workflowId = /started (\S+)/.exec(stdout + stderr)?.[1];
  assert.ok(workflowId, stdout + stderr);
  return { stderr, workflowId };
}

test('a live worker keeps its note fresh and a backup with it completes without a notice', async () => {
  const worker = await rig.startWorker();
  await waitFor('the worker note', async () => (await livenessOf(rig.client, rig.server))?.state === 'alive');
  const first = (await livenessOf(rig.client, rig.server))!;
  assert.match(first.worker, new RegExp(`^${rig.server}@\\S+ pid ${worker.pid}$`));
  await waitFor('a newer note', async () => (await livenessOf(rig.client, rig.server))?.at !== first.at);
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  assert.doesNotMatch(run.stderr, /no live worker/);

  // SIGKILL: the worker writes nothing on its way out; its note just stops changing.
  worker.kill('SIGKILL');
  if (worker.exitCode === null && worker.signalCode === null) await once(worker, 'exit');
  assert.equal((await livenessOf(rig.client, rig.server))?.state, 'alive');
});

test('with the worker killed, start-backup --wait says so while its run still waits, naming what to run', async () => {
  const { stderr, workflowId } = await waitForNotice(
    ['start-backup', '--host', rig.hostName, '--wait'],
    'no live worker serves',
  );
  assert.match(
    stderr,
    new RegExp(
      `no live worker serves tidemark-server-${rig.server} \\(its worker ${rig.server}@\\S+ pid \\d+ was last seen alive at \\S+\\): the backup waits until one does\\. On the backup server "${rig.server}" run: systemctl restart tidemark-worker@${rig.server}`,
    ),
  );
  // The notice came before the run could complete: it is still waiting for a worker.
  const handle = rig.client.workflow.getHandle(workflowId);
  assert.equal((await handle.describe()).status.name, 'RUNNING');
  await handle.terminate('test: the worker is dead on purpose');
});

test('with the worker killed, restore --wait says so too', async () => {
  const out = await mkdtemp(join(rig.dir, 'restore-'));
  const { stderr, workflowId } = await waitForNotice(
    ['restore', '--host', rig.hostName, '--to', out, '--wait'],
    'no live worker serves',
  );
  assert.match(stderr, /: the restore waits until one does\. On the backup server/);
  const handle = rig.client.workflow.getHandle(workflowId);
  assert.equal((await handle.describe()).status.name, 'RUNNING');
  await handle.terminate('test: the worker is dead on purpose');
});
