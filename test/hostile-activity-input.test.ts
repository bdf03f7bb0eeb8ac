// A client of the Temporal namespace runs a workflow of its own that schedules the backup server's
// activities with crafted input (test/helpers/hostile-workflow.ts), as the security review's attacker did.
// Each activity takes names from its input and everything executable from the worker's own inventory:
// such input can at most fail the activity. Every case checks that nothing ran and nothing was written.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { NativeConnection } from '@temporalio/worker';
import type { BackupPlan } from '../domain/backup.js';
import { serverTaskQueue, transferTaskQueue } from '../domain/names.js';
import type { RestorePlan } from '../domain/restore.js';
import { zfs } from '../pool/zfs.js';
import { createRig, testServices, type Rig } from './helpers/rig.js';

let rig: Rig;
let worker: Worker;
let running: Promise<void>;
let plan: BackupPlan;
let snapshot: string;
const queue = `hostile-${randomBytes(4).toString('hex')}`;
const marker = () => `/tmp/tidemark-pwned-${randomBytes(6).toString('hex')}`;

before(async () => {
  rig = await createRig('hostile-input');
  await mkdir(rig.source, { recursive: true });
  await writeFile(join(rig.source, 'file.txt'), 'data\n');
  await rig.startWorker();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  snapshot = (await rig.snapshots()).at(-1)!;
  const connection = await NativeConnection.connect({ address: testServices().temporal });
  worker = await Worker.create({
    connection,
    taskQueue: queue,
    workflowsPath: fileURLToPath(new URL('./helpers/hostile-workflow.js', import.meta.url)),
  });
  running = worker.run();
  plan = (await call(serverTaskQueue(rig.server), 'planBackup', [{ host: rig.hostName, server: rig.server }]))
    .result as BackupPlan;
});

after(async () => {
  worker?.shutdown();
  await running;
  await rig?.close();
});

/** Runs one activity through Temporal with `args`; resolves with its result or its failure's message. */
async function call(taskQueue: string, name: string, args: unknown[]): Promise<{ result?: unknown; failure?: string }> {
  try {
    const result = await rig.client.workflow.execute('callActivity', {
      taskQueue: queue,
      workflowId: `hostile-${name}-${randomBytes(4).toString('hex')}`,
      args: [taskQueue, name, args],
    });
    return { result };
  } catch (error) {
    let cause: unknown = error;
    while ((cause as { cause?: unknown }).cause) cause = (cause as { cause?: unknown }).cause;
    return { failure: (cause as Error).message };
  }
}

/** An executable that leaves `file` behind when anything runs it. */
async function planted(dir: string, file: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const script = join(dir, 'evil');
  await writeFile(script, `#!/bin/sh\ntouch ${file}\n`);
  await chmod(script, 0o755);
  return script;
}

test('transferFiles: an ssh option hidden in identityFile runs nothing on the backup server', async () => {
  const pwned = marker();
  const hostile = { ...plan, ssh: { ...plan.ssh, identityFile: `/nonexistent -oProxyCommand=touch\t${pwned}` } };
  await call(transferTaskQueue(rig.server), 'transferFiles', [hostile, await rig.copyPath()]);
  assert.equal(existsSync(pwned), false, 'the ProxyCommand ran');
});

test("probeHost: a host key name of the input's own is not used: ssh checks the inventory's name", async () => {
  const before = await readFile(rig.host.knownHostsFile, 'utf8');
  // "*" would match any entry; another name would be another machine's key.
  for (const hostKeyAlias of ['*', 'some-other-host']) {
    const run = await call(serverTaskQueue(rig.server), 'probeHost', [{ ...plan, ssh: { ...plan.ssh, hostKeyAlias } }]);
    assert.equal(run.failure, undefined, `the probe ran under ${rig.hostName}'s own entry`);
  }
  assert.equal(await readFile(rig.host.knownHostsFile, 'utf8'), before, 'known_hosts unchanged');
});

test('runServerHook: a script the inventory does not name is not run', async () => {
  const pwned = marker();
  const script = await planted(join(rig.dir, 'planted'), pwned);
  const run = await call(serverTaskQueue(rig.server), 'runServerHook', [script, {}, 10_000]);
  assert.equal(existsSync(pwned), false, 'the planted script ran as the worker');
  assert.ok(run.failure, 'the step failed');
  assert.match(run.failure, /hooks/);
});

test('runHostHooks: a hook directory the inventory does not name is not run on the host', async () => {
  const pwned = marker();
  await planted(join(rig.dir, 'planted-hooks'), pwned);
  const hostile = {
    ...plan,
    hostSteps: { ...plan.hostSteps!, hooks: { ...plan.hostSteps!.hooks, dir: join(rig.dir, 'planted-hooks') } },
  };
  await call(serverTaskQueue(rig.server), 'runHostHooks', [hostile]);
  assert.equal(existsSync(pwned), false, "run-parts ran the attacker's directory");
});

test('restoreFiles: a view and a target of its own copy nothing off the backup server', async () => {
  const secrets = join(rig.dir, 'server-secrets');
  await mkdir(secrets, { recursive: true });
  await writeFile(join(secrets, 'key'), 'secret\n');
  const stolen = join(rig.dir, 'stolen');
  const hostile: RestorePlan = {
    host: rig.hostName,
    server: rig.server,
    dataset: rig.dataset,
    snapshot,
    paths: [],
    target: { kind: 'local', dir: `${stolen}/` },
    dryRun: false,
    ioTimeoutSeconds: 30,
    heartbeatTimeoutMs: 10_000,
  };
  const run = await call(transferTaskQueue(rig.server), 'restoreFiles', [hostile, { root: secrets }]);
  assert.ok(run.failure, 'the step failed');
  assert.equal(existsSync(stolen), false, 'files were written where the input said');
});

test('ensureDataset and takeSnapshot: a dataset that is not a host of this server is not created or snapshotted', async () => {
  const foreign = `${rig.dataset.split('/')[0]}/hostile-${randomBytes(3).toString('hex')}`;
  const made = await call(serverTaskQueue(rig.server), 'ensureDataset', [foreign, rig.hostName, {}]);
  assert.ok(made.failure, 'ensureDataset failed');
  assert.equal(await zfs(['list', '-H', '-o', 'name', foreign]).catch(() => 'absent'), 'absent');
  const before = await rig.snapshots();
  const snap = await call(serverTaskQueue(rig.server), 'takeSnapshot', [rig.dataset, 'not-ours', null, []]);
  assert.ok(snap.failure, 'takeSnapshot failed');
  assert.deepEqual(await rig.snapshots(), before);
});

test('wrong types and a foreign server fail the step with a message naming the field', async () => {
  const typed = await call(serverTaskQueue(rig.server), 'planBackup', [{ host: { toString: 1 }, server: rig.server }]);
  assert.match(typed.failure ?? '', /host/);
  const foreign = await call(serverTaskQueue(rig.server), 'planBackup', [{ host: rig.hostName, server: 'elsewhere' }]);
  assert.match(foreign.failure ?? '', /elsewhere/);
  const paths = await call(serverTaskQueue(rig.server), 'probeHost', [{ ...plan, paths: 5 }]);
  assert.match(paths.failure ?? '', /paths/);
});
