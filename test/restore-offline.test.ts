// Restore on the day Temporal is gone: `restore --offline` on the backup server, with the worker stopped and
// the inventory's Temporal address a closed port, restores to a directory and onto a host over ssh, each
// tree identical to the snapshot; refusals keep their exit code 2 and no clone or hold stays behind.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { once } from 'node:events';
import { createLoopbackHost, type LoopbackHost } from '../devenv/sshd.js';
import { freePort } from '../worker/free-port.js';
import { zfs } from '../pool/zfs.js';
import { editInventory } from './helpers/inventory-edit.js';
import { createRig, testServices, withSnapshotClone, type Rig } from './helpers/rig.js';
import { buildSampleTree, describeTree } from './helpers/tree.js';

let rig: Rig;
let target: LoopbackHost;
let snapshot: string;

before(async () => {
  // The inventory's own temporal section: the CLI gets no TEMPORAL_ADDRESS, so the edit below is what it uses.
  rig = await createRig('restore-offline', { temporal: { address: testServices().temporal } });
  await buildSampleTree(rig.source);
  const worker = await rig.startWorker();
  const backup = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(backup.exitCode, 0, backup.stderr + backup.stdout);
  snapshot = (await rig.snapshots()).at(-1)!;

  target = await createLoopbackHost(join(rig.dir, 'ssh2'), `127.0.${(process.pid % 200) + 20}.252`);
  await writeFile(join(rig.dir, 'ssh2', 'authorized_keys'), await readFile(`${rig.host.identityFile}.pub`));
  await appendFile(rig.host.knownHostsFile, `${target.hostKeyLine}\n`);
  await target.start();

  // Disaster day: no worker, and Temporal's address answers nothing.
  worker.kill('SIGKILL');
  if (worker.exitCode === null && worker.signalCode === null) await once(worker, 'exit');
  const closedPort = await freePort('127.0.0.1');
  editInventory(rig, (inventory) => {
    inventory.temporal = { address: `127.0.0.1:${closedPort}` };
    inventory.hosts['restore-target'] = { address: target.address, port: target.port, user: 'root', paths: ['/srv'] };
  });
});
after(async () => {
  await target?.stop();
  await rig.close();
});

function restore(args: string[]) {
  return rig.cli(['restore', '--host', rig.hostName, ...args], { timeoutMs: 180_000 });
}

async function restoreClones(): Promise<string[]> {
  const parent = rig.dataset.slice(0, rig.dataset.lastIndexOf('/'));
  const output = await zfs(['list', '-H', '-o', 'name', '-t', 'filesystem', '-r', parent]);
  return output.split('\n').filter((name) => name.startsWith(`${rig.dataset}-restore-`));
}

async function holds(): Promise<number> {
  return Number((await zfs(['get', '-H', '-p', '-o', 'value', 'userrefs', `${rig.dataset}@${snapshot}`])).trim());
}

async function snapshotTree() {
  return withSnapshotClone(rig.dataset, snapshot, (path) => describeTree(join(path, rig.source)));
}

test('without --offline the restore cannot start: Temporal is unreachable (exit 4)', async () => {
  const out = await mkdtemp(join(rig.dir, 'online-'));
  const run = await restore(['--to', out, '--wait']);
  assert.equal(run.exitCode, 4, run.stderr);
  assert.doesNotMatch(run.stderr, /started restore:/);
});

test('--offline --to DIR restores the whole tree identical to the snapshot, with progress, and leaves no clone or hold', async () => {
  const out = await mkdtemp(join(rig.dir, 'out-'));
  const run = await restore(['--offline', '--to', out, '--special-files', '--json']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  const summary = JSON.parse(run.stdout) as { snapshot: string; filesTransferred: number; target: string };
  assert.equal(summary.snapshot, snapshot);
  assert.ok(summary.filesTransferred > 0);
  assert.equal(summary.target, `${rig.server}:${out}/`);
  for (const phase of ['planning', 'opening', 'copying', 'closing'])
    assert.match(run.stderr, new RegExp(`offline restore of ${rig.hostName} from ${rig.server}: ${phase}`));
  assert.deepEqual(await describeTree(join(out, rig.source)), await snapshotTree());
  assert.deepEqual(await restoreClones(), []);
  assert.equal(await holds(), 0);
});

test('--offline --to-host pushes over ssh; the tree on the host is identical to the snapshot', async () => {
  const pushed = await mkdtemp(join(rig.dir, 'pushed-'));
  const run = await restore(['--offline', '--to-host', 'restore-target', '--target-dir', pushed]);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  assert.match(
    run.stdout,
    new RegExp(`SUCCESS: restored everything from ${rig.dataset}@${snapshot} to restore-target:`),
  );
  assert.deepEqual(await describeTree(join(pushed, rig.source)), await snapshotTree());
  assert.deepEqual(await restoreClones(), []);
  assert.equal(await holds(), 0);
});

test('--offline keeps the same checks and exit codes: dry run writes nothing, a missing path and a target outside the roots exit 2', async () => {
  const out = await mkdtemp(join(rig.dir, 'dry-'));
  const dry = await restore(['--offline', '--to', out, '--dry-run']);
  assert.equal(dry.exitCode, 0, dry.stderr);
  assert.match(dry.stdout, /SUCCESS: dry run: \d+ changes restoring everything/);
  assert.deepEqual(await describeTree(out).then((tree) => Object.keys(tree.entries)), []);

  const missing = await restore(['--offline', '--path', join(rig.source, 'no/such/file'), '--to', out]);
  assert.equal(missing.exitCode, 2, missing.stderr);
  assert.match(
    missing.stderr,
    /FAILED: .*failed during opening: --path: not in snapshot tidemark-\S+: \S+no\/such\/file/,
  );

  const outside = await restore(['--offline', '--to', '/var/tmp/not-a-restore-root']);
  assert.equal(outside.exitCode, 2, outside.stderr);
  assert.match(outside.stderr, /not under this server's restore roots/);
  assert.deepEqual(await restoreClones(), []);
  assert.equal(await holds(), 0);
});
