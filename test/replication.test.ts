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
import type { BackupSummary } from '../domain/backup.js';
import { backupWorkflowId } from '../domain/names.js';
import { replicationWorkflowId } from '../domain/replication.js';
import type { ReplicationSummary } from '../workflows/replicate-host.js';
import { zfs } from '../pool/zfs.js';
import { editInventory, startServerWorker } from './helpers/inventory-edit.js';
import { createRig, processesMatching, withSnapshotClone, type Rig } from './helpers/rig.js';
import { buildSampleTree, describeTree } from './helpers/tree.js';
import { parseNagiosLine } from './helpers/nagios.js';
import { request } from 'undici';
import { waitFor } from '../devenv/process.js';
import { freePort } from '../worker/free-port.js';
import { collectFleetStatus } from '../fleet/status.js';
import type { PairStatus } from '../fleet/verdict.js';
import { loadInventory } from '../inventory/load.js';
import { fleetPage } from '../web/fleet-page.js';

const filterPath = fileURLToPath(new URL('../../deploy/server/tidemark-receive-filter', import.meta.url));
const targetPool = `tmrepl${process.pid}`;
let rig: Rig;
let receiver: LoopbackHost;
let target: string;
let targetTree: string;
let targetDataset: string;
let sourceDataset: string;
let targetWorker: ChildProcess | undefined;
let targetMetrics: string;
let sourceWorker: ChildProcess | undefined;

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
  const metricsPort = await freePort();
  targetMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
  editInventory(rig, (inventory) => {
    inventory.servers[target] = {
      dataset: targetTree,
      replicateFrom: rig.server,
      receive: { address: receiver.address, port: receiver.port, user: 'root' },
      stateFile: join(rig.dir, 'target-state.json'),
      metrics: `127.0.0.1:${metricsPort}`,
    };
    inventory.hosts[rig.hostName].servers = [rig.server, target];
  });
  sourceWorker = await rig.startWorker();
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

test("status, its plugin line, the console's row and the target's metrics show the replica's lag and bytes sent", async () => {
  const last = await replication();
  const newest = (await rig.snapshots()).at(-1)!;
  const takenAt = Date.parse(
    newest.replace(/^tidemark-(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const status = await rig.cli(['status', '--host', rig.hostName, '--json']);
  const rows = JSON.parse(status.stdout) as PairStatus[];
  // The source's own pair is no replica; the target's carries the replica's facts and verdict.
  assert.equal(rows.find((row) => row.server === rig.server)?.replica, undefined);
  const replica = rows.find((row) => row.server === target)?.replica;
  assert.ok(replica, status.stdout);
  assert.equal(replica.source, rig.server);
  assert.equal(replica.snapshot, newest);
  assert.equal(replica.bytesSent, last.bytesSent);
  assert.equal(replica.lastStatus, 'SUCCESS');
  assert.equal(replica.verdict, 'OK', replica.reasons.join('; '));
  assert.ok(replica.lagMs! >= 0 && replica.lagMs! <= Date.now() - takenAt, `lag ${replica.lagMs}`);
  assert.equal(replica.warningAfterMs, 2 * 86_400_000, 'default: 2 × the daily schedule');
  const table = (await rig.cli(['status', '--host', rig.hostName, '--server', target])).stdout;
  assert.match(table, new RegExp(`REPLICA[\\s\\S]*from ${rig.server}: \\S+ old, \\S+ sent`));
  const nagios = parseNagiosLine(
    (await rig.cli(['status', '--host', rig.hostName, '--server', target, '--nagios'])).stdout.trim(),
  );
  const lag = nagios.perfdata.get(`'replica_lag_${rig.hostName}@${target}'`);
  assert.ok(lag && lag.uom === 's' && lag.fields[0] === String(2 * 86_400), JSON.stringify(lag));
  assert.equal(nagios.perfdata.get(`'replica_sent_${rig.hostName}@${target}'`)?.value, last.bytesSent);

  // The console's fleet rows come from the same collectFleetStatus.
  const inventory = await loadInventory(rig.inventoryPath);
  const found = await collectFleetStatus(rig.client, inventory, [{ host: rig.hostName, server: target }]);
  const page = String(
    await fleetPage(
      found.map((row) => row.status),
      found.map((row) => row.status),
      { sort: 'host' },
      0,
    ),
  );
  assert.match(page, /<th>replica<\/th>/);
  assert.match(page, new RegExp(`<td class="replica">from ${rig.server}: \\S+ old, \\S+ sent</td>`));

  // The target's worker: lag and bytes per (host, server, source), from the replica's own properties.
  const labels = `{host="${rig.hostName}",server="${target}",source="${rig.server}"}`;
  let page2 = '';
  await waitFor(
    'replica gauges on the target worker',
    async () => {
      page2 = await (await request(targetMetrics)).body.text();
      return page2.includes(`tidemark_replica_sent_bytes${labels} ${last.bytesSent}`);
    },
    30_000,
  );
  const lagLine = page2.split('\n').find((line) => line.startsWith(`tidemark_replica_lag_seconds${labels} `));
  assert.ok(
    lagLine,
    page2
      .split('\n')
      .filter((line) => line.includes('replica'))
      .join('\n'),
  );
  assert.ok(Number(lagLine.split(' ').at(-1)) >= 0);
  assert.ok(Number(lagLine.split(' ').at(-1)) <= (Date.now() - takenAt) / 1000 + 1);
  const checked = await execa('promtool', ['check', 'metrics'], { input: page2, reject: false });
  assert.equal(checked.exitCode, 0, `${checked.stdout}${checked.stderr}`);
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
  const listed = await rig.cli(['snapshots', '--host', rig.hostName, '--server', rig.server]);
  assert.match(listed.stdout, new RegExp(`${base}.*replication base \\(${target.toLowerCase()}\\)`));
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

/** A backup of the host on the target server, to its end (the summary, whatever the status). */
async function targetRun(): Promise<BackupSummary> {
  await rig.cli(['start-backup', '--host', rig.hostName, '--server', target, '--wait']);
  return rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, target)).result();
}

test('source stopped: failover pull on the target; source back: replication resumes, no snapshot lost', async () => {
  const replicated = await snapshotsOf(targetDataset);
  // A fresh replica: the target's own run pulls nothing.
  const fresh = await targetRun();
  assert.equal(fresh.status, 'SUCCESS', fresh.message);
  assert.match(fresh.message, /replicated from .*not pulled/);
  assert.deepEqual(await snapshotsOf(targetDataset), replicated);

  editInventory(rig, (inventory) => {
    inventory.servers[target].replication = { retention: { keepWithin: '7d' }, failoverAfter: '1s' };
  });
  sourceWorker!.kill('SIGKILL');
  writeFileSync(join(rig.source, 'etc', 'during-failover.conf'), 'written while the source was down\n');
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const failover = await targetRun();
  assert.equal(failover.status, 'WARNING', failover.message);
  assert.match(failover.message, /failover: no complete snapshot from/);
  const pulled = failover.snapshot!.split('@')[1]!;
  assert.deepEqual(await snapshotsOf(targetDataset), [...replicated, pulled]);
  // `snapshots` on the target says where each came from.
  const listed = (await rig.cli(['snapshots', '--host', rig.hostName, '--server', target])).stdout;
  assert.match(listed, new RegExp(`${replicated.at(-1)}.*replica of ${rig.server}`));
  assert.match(listed, new RegExp(`${pulled}.*pulled here`));

  // The source is back and takes its next snapshot: replication sets the failover pull aside and resumes.
  sourceWorker = await rig.startWorker();
  editInventory(rig, (inventory) => {
    inventory.servers[target].replication = { retention: { keepWithin: '7d' } };
  });
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await backup();
  const resumed = await replication();
  assert.equal(resumed.status, 'SUCCESS', resumed.message);
  assert.equal(resumed.kind, 'incremental');
  assert.ok(resumed.setAside, resumed.message);
  const source = await rig.snapshots();
  const onTarget = await snapshotsOf(targetDataset);
  for (const name of replicated) assert.ok(onTarget.includes(name), `${name} lost: ${onTarget.join(', ')}`);
  assert.equal(onTarget.at(-1), source.at(-1));
  assert.deepEqual(await snapshotsOf(resumed.setAside!), [pulled]);
  await assertSameTree(source.at(-1)!);
  // And the next scheduled run on the target is back to "replicated".
  assert.match((await targetRun()).message, /replicated from/);
});

/** The replicateHost runs of (host, target) Temporal knows, newest first. */
async function replicationRunIds(): Promise<string[]> {
  const ids: string[] = [];
  const query = `WorkflowId = '${replicationWorkflowId(rig.hostName, target)}'`;
  for await (const execution of rig.client.workflow.list({ query })) ids.push(execution.runId);
  return ids;
}

test("replicateFrom of the host's group, then of the host, wins over the server's; --explain names where from; a replica switched to pulling keeps its snapshots", async () => {
  // The group names the source; the server's own replicateFrom is gone.
  editInventory(rig, (inventory) => {
    delete inventory.servers[target].replicateFrom;
    inventory.groups = { offsite: { replicateFrom: rig.server } };
    inventory.hosts[rig.hostName].group = 'offsite';
  });
  const explained = await rig.cli(['config', 'check', '--explain', rig.hostName]);
  assert.equal(explained.exitCode, 0, explained.stderr);
  assert.match(explained.stdout, new RegExp(`replicateFrom +=.*"${target}":"${rig.server}".*\\(group offsite\\)`));
  writeFileSync(join(rig.source, 'etc', 'from-the-group.conf'), 'group\n');
  await backup();
  const replicated = await replication();
  assert.equal(replicated.status, 'SUCCESS', replicated.message);
  assert.equal((await snapshotsOf(targetDataset)).at(-1), (await rig.snapshots()).at(-1));
  assert.match((await targetRun()).message, /replicated from/);

  // The host's own false: no replication after the source's backup.
  editInventory(rig, (inventory) => {
    inventory.hosts[rig.hostName].replicateFrom = false;
  });
  assert.match(
    (await rig.cli(['config', 'check', '--explain', rig.hostName])).stdout,
    /replicateFrom +=\s*false\s+\(host\)/,
  );
  const runs = await replicationRunIds();
  await backup();
  assert.deepEqual(await replicationRunIds(), runs, 'a backup of a host with replicateFrom: false replicates nothing');

  // The target now pulls the host itself into the replica's dataset: its snapshots stay, the run says so once.
  const before = await snapshotsOf(targetDataset);
  writeFileSync(join(rig.source, 'etc', 'pulled-by-the-target.conf'), 'pulled\n');
  const switched = await targetRun();
  assert.equal(switched.status, 'WARNING', switched.message);
  assert.match(switched.message, new RegExp(`replicated from ${rig.server}.*pulled here from now on`));
  const after = await snapshotsOf(targetDataset);
  assert.deepEqual(after.slice(0, before.length), before);
  assert.equal(after.length, before.length + 1);
  assert.equal(await property('readonly', targetDataset), 'off');
  const pulled = await withSnapshotClone(targetDataset, after.at(-1)!, (path) =>
    // The copy holds the host's paths whole: the rig's source tree sits under its own absolute path.
    readFile(join(path, rig.source, 'etc', 'pulled-by-the-target.conf'), 'utf8'),
  );
  assert.equal(pulled, 'pulled\n');
  const next = await targetRun();
  assert.equal(next.status, 'SUCCESS', next.message);
});
