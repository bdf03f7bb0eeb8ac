// Replication between two backup servers on one machine (docs/how-to/off-site-copies.md): each server has
// its own zfs-fuse pool and its own worker; the target's sshd (127.0.0.x) runs only the receive filter
// (deploy/server/tidemark-receive-filter) for the source's key. Real Temporal, sshd, rsync and zfs.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { cacheDir } from '../devenv/paths.js';
import { createLoopbackHost, type LoopbackHost } from '../devenv/sshd.js';
import { destroyPool, ensureFilePool, removeStalePools } from '../devenv/zfs-pool.js';
import { replicationWorkflowId } from '../domain/replication.js';
import type { ReplicationSummary } from '../workflows/replicate-host.js';
import { zfs } from '../pool/zfs.js';
import { editInventory, startServerWorker } from './helpers/inventory-edit.js';
import { createRig, processesMatching, withSnapshotClone, type Rig } from './helpers/rig.js';
import { buildSampleTree, describeTree } from './helpers/tree.js';

const filterPath = fileURLToPath(new URL('../../deploy/server/tidemark-receive-filter', import.meta.url));
const targetPool = `tmrepl${process.pid}`;
let rig: Rig;
let receiver: LoopbackHost;
let target: string;
let targetTree: string;
let targetDataset: string;
let sourceDataset: string;
let targetWorker: ChildProcess | undefined;

before(async () => {
  await removeStalePools('tmrepl', join(cacheDir, 'test'));
  await ensureFilePool({
    name: targetPool,
    imageFile: join(cacheDir, 'test', `${targetPool}.img`),
    mountpoint: join(cacheDir, 'test', targetPool),
    size: '1G',
  });
  rig = await createRig('repl');
  sourceDataset = rig.dataset;
  target = `${rig.server}-offsite`;
  targetTree = `${targetPool}/offsite`;
  targetDataset = `${targetTree}/${rig.hostName}`;
  await buildSampleTree(rig.source);
  // The target's sshd, next to the host's: the source's key may only run the receive filter there.
  const address = rig.host.address.replace(/\.(\d+)$/, (_, last: string) => `.${(Number(last) % 250) + 3}`);
  receiver = await createLoopbackHost(join(rig.dir, 'target-ssh'), address);
  const sourceKey = (await readFile(`${rig.host.identityFile}.pub`, 'utf8')).trim();
  writeFileSync(
    join(rig.dir, 'target-ssh', 'authorized_keys'),
    `restrict,command="${filterPath} ${targetTree} ${rig.server}" ${sourceKey}\n`,
  );
  appendFileSync(rig.host.knownHostsFile, `${receiver.hostKeyLine}\n`);
  await receiver.start();
  editInventory(rig, (inventory) => {
    inventory.servers[target] = {
      dataset: targetTree,
      replicateFrom: rig.server,
      receive: { address: receiver.address, port: receiver.port, user: 'root' },
      stateFile: join(rig.dir, 'target-state.json'),
    };
    inventory.hosts[rig.hostName].servers = [rig.server, target];
  });
  await rig.startWorker();
  targetWorker = await startServerWorker(rig, target);
});

after(async () => {
  targetWorker?.kill('SIGKILL');
  await receiver?.stop();
  await rig?.close();
  await destroyPool(targetPool);
});

async function backup(): Promise<void> {
  const result = await rig.cli(['start-backup', '--host', rig.hostName, '--server', rig.server, '--wait']);
  assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
}

/** The replication the last backup started, to its end. */
async function replication(): Promise<ReplicationSummary> {
  return rig.client.workflow.getHandle(replicationWorkflowId(rig.hostName, target)).result();
}

async function snapshotsOf(dataset: string): Promise<string[]> {
  const output = await zfs(['list', '-H', '-t', 'snapshot', '-o', 'name', '-r', dataset]).catch(() => '');
  return output
    .split('\n')
    .filter((line) => line.startsWith(`${dataset}@`))
    .map((line) => line.split('@')[1]!);
}

async function property(name: string, of: string): Promise<string> {
  return (await zfs(['get', '-H', '-o', 'value', name, of])).trim();
}

/** The target's copy at `snapshot` equals the source's current copy, file for file. */
async function assertSameTree(snapshot: string): Promise<void> {
  const expected = await describeTree(await rig.copyPath());
  const received = await withSnapshotClone(targetDataset, snapshot, (path) => describeTree(path));
  assert.deepEqual(received, expected);
}

test('the first replication is a full send, the next an incremental one; the trees are identical', async () => {
  await backup();
  const first = await replication();
  assert.equal(first.status, 'SUCCESS', first.message);
  assert.equal(first.kind, 'full');
  const [snapshot] = await rig.snapshots();
  assert.deepEqual(await snapshotsOf(targetDataset), [snapshot]);
  await assertSameTree(snapshot!);
  assert.equal(await property('readonly', targetDataset), 'on');
  assert.equal(await property('tidemark:replica-of', `${targetDataset}@${snapshot}`), rig.server);
  assert.equal(await property(`tidemark:replica-base.${target.toLowerCase()}`, sourceDataset), snapshot);

  writeFileSync(join(rig.source, 'etc', 'changed-today.conf'), 'a new line\n'.repeat(100));
  await backup();
  const second = await replication();
  assert.equal(second.status, 'SUCCESS', second.message);
  assert.equal(second.kind, 'incremental');
  const source = await rig.snapshots();
  assert.equal(source.length, 2);
  assert.deepEqual(await snapshotsOf(targetDataset), source);
  await assertSameTree(source[1]!);
  assert.ok(second.bytesSent < first.bytesSent, `incremental ${second.bytesSent} vs full ${first.bytesSent} bytes`);
});

/** The filter as sshd runs it, over the real ssh login of the source's key. */
async function overSsh(command: string) {
  return execa(
    'ssh',
    [
      '-F',
      '/dev/null',
      '-p',
      String(receiver.port),
      '-i',
      rig.host.identityFile,
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${rig.host.knownHostsFile}`,
      '-l',
      'root',
      receiver.address,
      command,
    ],
    { reject: false, input: '' },
  );
}

test("the target's filter refuses everything but the receive into this source's replica", async () => {
  const before = await snapshotsOf(targetDataset);
  const [oldest] = before;
  // The target's own pulled host: same tree, not this source's replica.
  await zfs(['create', '-p', `${targetTree}/pulled-here`]);
  const refused = [
    `zfs destroy ${targetDataset}@${oldest}`,
    `zfs destroy -r ${targetDataset}`,
    `zfs receive -F -u ${targetDataset}`,
    `zfs receive -u -F ${targetDataset}`,
    `zfs receive ${targetDataset}`,
    `zfs receive -u ${targetTree}/pulled-here`,
    `zfs receive -u ${targetPool}/elsewhere`,
    `zfs receive -u ${targetTree}/../elsewhere`,
    `zfs receive -u ${targetTree}/a/b`,
    `zfs receive -u ${targetDataset}@${oldest}`,
    `zfs receive -u ${targetDataset}; zfs destroy -r ${targetTree}`,
    `zfs receive -u ${targetDataset} $(id)`,
    `zfs set readonly=off ${targetDataset}`,
    `zfs rollback -r ${targetDataset}@${oldest}`,
    'zfs list',
    'sh',
    '',
  ];
  for (const command of refused) {
    const result = await overSsh(command);
    assert.notEqual(result.exitCode, 0, `allowed: ${command}`);
    assert.match(result.stderr, /tidemark-receive-filter: refused/, command);
  }
  assert.deepEqual(await snapshotsOf(targetDataset), before);
  assert.equal(await property('readonly', targetDataset), 'on');
  // The allowed command reaches zfs receive (an empty stream is refused by zfs itself, not the filter).
  const allowed = await overSsh(`zfs receive -u ${targetDataset}`);
  assert.notEqual(allowed.exitCode, 0);
  assert.doesNotMatch(allowed.stderr, /refused/);
  assert.deepEqual(await snapshotsOf(targetDataset), before);
});

test("the target keeps its own retention; the source's never prunes the common snapshot", async () => {
  // Source keeps one a day; the target keeps a week of replicas.
  editInventory(rig, (inventory) => {
    inventory.hosts[rig.hostName].retention = { daily: 1 };
    inventory.servers[target].replication = { retention: { keepWithin: '7d' } };
  });
  const base = (await rig.snapshots()).at(-1)!;
  // The target is away while two backups run: the base is older than the source's daily keeps.
  targetWorker!.kill('SIGKILL');
  for (const line of ['first', 'second']) {
    writeFileSync(join(rig.source, 'etc', `${line}.conf`), `${line}\n`);
    await backup();
  }
  const source = await rig.snapshots();
  assert.ok(source.includes(base), `the base ${base} was pruned on the source: ${source.join(', ')}`);
  assert.equal(source.length, 2, `daily 1 keeps the newest and the base only: ${source.join(', ')}`);
  targetWorker = await startServerWorker(rig, target);
  const resumed = await replication();
  assert.equal(resumed.status, 'SUCCESS', resumed.message);
  assert.equal(resumed.kind, 'incremental');
  const onTarget = await snapshotsOf(targetDataset);
  assert.equal(onTarget.at(-1), source.at(-1));
  assert.ok(onTarget.length > source.length, `the target keeps more: ${onTarget.join(', ')}`);
  await assertSameTree(source.at(-1)!);
  // The next backup releases the old base: the source's retention may prune it now.
  writeFileSync(join(rig.source, 'etc', 'third.conf'), 'third\n');
  await backup();
  await replication();
  assert.ok(!(await rig.snapshots()).includes(base));
});

test('a send killed midway is retried from the common snapshot', async () => {
  editInventory(rig, (inventory) => {
    inventory.servers[target].replication = { retention: { keepWithin: '7d' }, bandwidthLimit: '512K' };
  });
  const random = await execa('head', ['-c', String(3 * 1024 * 1024), '/dev/urandom'], { encoding: 'buffer' });
  writeFileSync(join(rig.source, 'var', 'big.bin'), random.stdout);
  await backup();
  // The rate limit keeps the send going for seconds: kill zfs send once it runs (zfs-fuse rewrites the "@" of
  // its arguments in /proc, so the pattern stops before it).
  let killed = 0;
  for (let tries = 0; tries < 300 && killed === 0; tries++) {
    for (const pid of await processesMatching(`zfs send -I ${sourceDataset}`)) {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    }
    if (killed === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(killed > 0, `no zfs send to kill: ${JSON.stringify(await replication())}`);
  const retried = await replication();
  assert.equal(retried.status, 'SUCCESS', retried.message);
  assert.ok(retried.rounds >= 2, `rounds: ${retried.rounds}`);
  const source = await rig.snapshots();
  assert.equal((await snapshotsOf(targetDataset)).at(-1), source.at(-1));
  await assertSameTree(source.at(-1)!);
});
