// Getting data back: restore from an older snapshot into a directory and onto another host, subsets and
// --at, the hold that keeps retention off the snapshot being read, cancel and dead runs leaving no clone,
// and browsing (files, history) against a dataset with several snapshots.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { createLoopbackHost, type LoopbackHost } from '../devenv/sshd.js';
import { waitFor } from '../devenv/process.js';
import type { FilesReport, HistoryReport } from '../client/browse.js';
import type { PruneReport } from '../client/prune.js';
import type { RestoreSummary } from '../domain/restore.js';
import { parseSnapshotName } from '../domain/names.js';
import { zfs } from '../pool/zfs.js';
import { editInventory, setHostSettings } from './helpers/inventory-edit.js';
import { createRig, withSnapshotClone, type Rig } from './helpers/rig.js';
import { buildSampleTree, describeTree } from './helpers/tree.js';

let rig: Rig;
let second: LoopbackHost;
/** Three snapshots, oldest first, each with its tree (read from the snapshot) and the source's ACLs. */
const taken: Array<{ name: string; tree: Awaited<ReturnType<typeof describeTree>>; acls: string[] }> = [];

/** Every file's ACL entries, sorted. The mask line and getfacl's "#effective" notes are left out: zfs-fuse
 * reports the group mode bits of a file with an extended ACL as 0, so the mask a copy read from it gets
 * differs from the source's (the named entries survive). */
async function aclDump(root: string): Promise<string[]> {
  const dump = (await execa('getfacl', ['-R', '-n', '-p', '.'], { cwd: root })).stdout;
  const blocks = dump
    .split('\n\n')
    .map((block) => block.trim())
    .filter(Boolean);
  return blocks
    .map((block) =>
      block
        .split('\n')
        .filter((line) => !line.startsWith('mask::'))
        .map((line) => line.replace(/\t#effective:.*$/, ''))
        .join('\n'),
    )
    .sort();
}

async function backup(): Promise<void> {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  const names = await rig.snapshots();
  const name = names.at(-1)!;
  // The snapshot's content as the pool shows it: what a restore must reproduce.
  const tree = await withSnapshotClone(rig.dataset, name, (path) => describeTree(join(path, rig.source)));
  taken.push({ name, tree, acls: await aclDump(rig.source) });
}

before(async () => {
  rig = await createRig('restore');
  await buildSampleTree(rig.source);
  await execa('setfacl', ['-m', 'u:1234:r,g:5678:rw', join(rig.source, 'etc/app/secret.key')]);
  await rig.startWorker();
  await backup();
  writeFileSync(join(rig.source, 'etc/app/config.ini'), '[main]\nanswer = 43\n');
  await rm(join(rig.source, 'file with spaces.txt'));
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await backup();
  writeFileSync(join(rig.source, 'new-file.txt'), 'new\n');
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await backup();

  // A second host to push to: a real sshd that trusts the backup server's key.
  second = await createLoopbackHost(join(rig.dir, 'ssh2'), `127.0.${(process.pid % 200) + 20}.251`);
  await writeFile(join(rig.dir, 'ssh2', 'authorized_keys'), await readFile(`${rig.host.identityFile}.pub`));
  await appendFile(rig.host.knownHostsFile, `${second.hostKeyLine}\n`);
  await second.start();
  editInventory(rig, (inventory) => {
    inventory.hosts['restore-target'] = { address: second.address, port: second.port, user: 'root', paths: ['/srv'] };
  });
});
after(async () => {
  await second?.stop();
  await rig.close();
});

async function restoreClones(): Promise<string[]> {
  const parent = rig.dataset.slice(0, rig.dataset.lastIndexOf('/'));
  const output = await zfs(['list', '-H', '-o', 'name', '-t', 'filesystem', '-r', parent]);
  return output.split('\n').filter((name) => name.startsWith(`${rig.dataset}-restore-`));
}

async function holds(snapshot: string): Promise<number> {
  return Number((await zfs(['get', '-H', '-p', '-o', 'value', 'userrefs', `${rig.dataset}@${snapshot}`])).trim());
}

/** `tidemark restore --host <the rig's host> ...args`. */
function restoreCli(args: string[]): ReturnType<Rig['cli']> {
  return rig.cli(['restore', '--host', rig.hostName, ...args]);
}

async function restoreJson(args: string[]): Promise<RestoreSummary> {
  const run = await restoreCli([...args, '--wait', '--json']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  return JSON.parse(run.stdout) as RestoreSummary;
}

test('the whole tree restored from an older snapshot with --to DIR --special-files is identical to that snapshot', async () => {
  const oldest = taken[0]!;
  const out = await mkdtemp(join(rig.dir, 'out-'));
  // --special-files: the setuid bit of run-me.sh too (left out by default: test/restore-escape.test.ts).
  const summary = await restoreJson(['--snapshot', oldest.name, '--to', out, '--special-files']);
  assert.equal(summary.snapshot, oldest.name);
  const restored = join(out, rig.source);
  assert.deepEqual(await aclDump(restored), oldest.acls);
  assert.ok(
    (await aclDump(restored)).some((block) => block.includes('user:1234:r--')),
    'the ACL made it',
  );
  await withSnapshotClone(rig.dataset, oldest.name, async (path) => {
    // Identical to the snapshot's content as the pool shows it (on zfs-fuse the ACL file's group bits read 0).
    assert.deepEqual(await describeTree(restored), await describeTree(join(path, rig.source)));
    // rsync itself, comparing everything the backup keeps, finds nothing to do.
    const check = await execa('rsync', [
      '-ani',
      '--hard-links',
      '--acls',
      '--xattrs',
      '--numeric-ids',
      `${join(path, rig.source)}/`,
      `${restored}/`,
    ]);
    assert.equal(check.stdout.trim(), '');
  });
  assert.deepEqual(await restoreClones(), [], 'the read-only clone is gone');
  assert.equal(await holds(oldest.name), 0, 'the restore hold is released');
});

test('--path restores exactly the subset; --at picks the newest complete snapshot at or before it', async () => {
  const [oldest, middle, newest] = taken;
  const out = await mkdtemp(join(rig.dir, 'subset-'));
  // One second before the middle snapshot: the oldest one.
  const justBefore = new Date(parseSnapshotName(middle!.name)!.takenAt.getTime() - 1_000).toISOString();
  const summary = await restoreJson([
    '--at',
    justBefore,
    '--path',
    join(rig.source, 'etc/app'),
    '--path',
    join(rig.source, 'run-me.sh'),
    '--to',
    out,
    '--special-files',
  ]);
  assert.equal(summary.snapshot, oldest!.name);
  const restored = await describeTree(join(out, rig.source));
  const expected = Object.fromEntries(
    Object.entries(oldest!.tree.entries).filter(([name]) => name === 'run-me.sh' || name.startsWith('etc/app/')),
  );
  const got = Object.fromEntries(
    Object.entries(restored.entries).filter(([name]) => name !== 'etc' && name !== 'etc/app'),
  );
  assert.deepEqual(got, expected);
  assert.deepEqual(Object.keys(restored.entries).sort(), ['etc', 'etc/app', ...Object.keys(expected)].sort());
  assert.equal((await readFile(join(out, rig.source, 'etc/app/config.ini'), 'utf8')).trim(), '[main]\nanswer = 42');

  const atMiddle = await restoreJson([
    '--at',
    parseSnapshotName(middle!.name)!.takenAt.toISOString(),
    '--path',
    join(rig.source, 'etc/app/config.ini'),
    '--to',
    out,
  ]);
  assert.equal(atMiddle.snapshot, middle!.name);
  assert.equal(
    (await restoreJson(['--path', join(rig.source, 'new-file.txt'), '--to', out])).snapshot,
    newest!.name,
    'latest by default',
  );
  assert.equal((await readFile(join(out, rig.source, 'etc/app/config.ini'), 'utf8')).trim(), '[main]\nanswer = 43');
});

test('a path the snapshot does not hold, or a snapshot that does not exist, is refused with exit 2', async () => {
  const out = await mkdtemp(join(rig.dir, 'refused-'));
  const missing = await restoreCli(['--path', join(rig.source, 'no/such/file'), '--to', out, '--wait']);
  assert.equal(missing.exitCode, 2, missing.stderr);
  assert.match(missing.stderr, /--path: not in snapshot tidemark-\S+: \S+no\/such\/file/);
  const unknown = await restoreCli(['--snapshot', 'tidemark-20000101T000000Z', '--to', out, '--wait']);
  assert.equal(unknown.exitCode, 2, unknown.stderr);
  assert.match(unknown.stderr, /--snapshot: "tidemark-20000101T000000Z" does not exist/);
  const live = await restoreCli(['--to-host', 'restore-target', '--target-dir', '/']);
  assert.equal(live.exitCode, 2);
  assert.match(live.stderr, /--target-dir \/: this writes over the live system; add --yes-overwrite-live-system/);
  assert.deepEqual(await restoreClones(), []);
});

test('--to-host pushes over ssh into --target-dir; by default into a fresh /var/lib/tidemark/restore/<snapshot>-<nonce>/ (dry run: nothing written)', async () => {
  const oldest = taken[0]!;
  const pushed = await mkdtemp(join(rig.dir, 'pushed-'));
  const logins = await second.logins();
  await restoreJson(['--snapshot', oldest.name, '--to-host', 'restore-target', '--target-dir', pushed]);
  assert.ok((await second.logins()) > logins, 'the copy went through the second host sshd');
  const restored = join(pushed, rig.source);
  assert.deepEqual(await describeTree(restored), oldest.tree);
  assert.deepEqual(await aclDump(restored), oldest.acls);

  const dry = await restoreCli(['--path', join(rig.source, 'etc'), '--to-host', 'restore-target', '--dry-run']);
  assert.equal(dry.exitCode, 0, dry.stderr);
  const newest = taken.at(-1)!.name;
  assert.match(
    dry.stdout,
    new RegExp(
      `SUCCESS: dry run: \\d+ changes restoring \\S+/etc from ${newest} to restore-target:/var/lib/tidemark/restore/${newest}-[0-9a-f]{8}/`,
    ),
  );
  assert.match(dry.stdout, /^<f\+{5,} \S+\/etc\/app\/config\.ini$/m);
  const made = existsSync('/var/lib/tidemark/restore') ? readdirSync('/var/lib/tidemark/restore') : [];
  assert.ok(!made.some((name) => name.startsWith(newest)), 'a dry run writes nothing');

  // A dry run over the live system writes nothing either, so it needs no --yes-overwrite-live-system.
  const dryLive = await restoreCli([
    '--path',
    join(rig.source, 'etc'),
    '--to-host',
    'restore-target',
    '--target-dir',
    '/',
    '--dry-run',
  ]);
  assert.equal(dryLive.exitCode, 0, dryLive.stderr);
  assert.match(
    dryLive.stdout,
    new RegExp(`SUCCESS: dry run: \\d+ changes restoring \\S+/etc from ${newest} to restore-target:/`),
  );
});

test('files and history --json read a dataset with several snapshots', async () => {
  const [oldest, middle, newest] = taken;
  const files = await rig.cli(['files', '--host', rig.hostName, '--snapshot', oldest!.name, '--json', rig.source]);
  assert.equal(files.exitCode, 0, files.stderr);
  const listing = JSON.parse(files.stdout) as FilesReport;
  assert.equal(listing.snapshot, oldest!.name);
  const byName = new Map(listing.entries.map((entry) => [entry.nameHex ?? entry.name, entry]));
  assert.deepEqual(byName.get('file with spaces.txt'), {
    name: 'file with spaces.txt',
    type: 'file',
    size: 7,
    mtime: byName.get('file with spaces.txt')!.mtime,
    mode: '0644',
    uid: 0,
    gid: 0,
  });
  assert.equal(byName.get('run-me.sh')?.mode, '4755');
  assert.equal(byName.get('owned-by-1234')?.uid, 1234);
  assert.equal(byName.get('dangling-link')?.target, '/nonexistent/target');
  assert.equal(byName.get('etc')?.type, 'dir');
  assert.ok(
    byName.has(Buffer.from('caf\xe9 menu.txt', 'latin1').toString('hex')),
    'the non-UTF-8 name is given in hex',
  );
  assert.ok(!byName.has('new-file.txt'));
  const latest = JSON.parse(
    (await rig.cli(['files', '--host', rig.hostName, '--json', rig.source])).stdout,
  ) as FilesReport;
  assert.equal(latest.snapshot, newest!.name);
  assert.ok(latest.entries.some((entry) => entry.name === 'new-file.txt'));

  const history = async (path: string) => {
    const run = await rig.cli(['history', '--host', rig.hostName, '--json', join(rig.source, path)]);
    assert.equal(run.exitCode, 0, run.stderr);
    return JSON.parse(run.stdout) as HistoryReport;
  };
  const config = await history('etc/app/config.ini');
  assert.deepEqual(
    config.snapshots.map((entry) => [entry.snapshot, entry.changed]),
    [
      [oldest!.name, true],
      [middle!.name, true],
      [newest!.name, false],
    ],
  );
  assert.equal(config.snapshots[0]!.mtime, '2020-01-02T03:04:05.000Z');
  const spaces = await history('file with spaces.txt');
  assert.deepEqual(
    spaces.snapshots.map((entry) => entry.snapshot),
    [oldest!.name],
  );
  assert.deepEqual(spaces.absentFrom, [middle!.name, newest!.name]);
  const added = await history('new-file.txt');
  assert.deepEqual(
    added.snapshots.map((entry) => [entry.snapshot, entry.changed, entry.size]),
    [[newest!.name, true, 4]],
  );
  const human = await rig.cli(['history', '--host', rig.hostName, join(rig.source, 'etc/app/config.ini')]);
  assert.match(human.stdout, new RegExp(`^\\* +${oldest!.name} +complete +file`, 'm'));
  assert.deepEqual(await restoreClones(), []);
  const browseLeft = (
    await zfs([
      'list',
      '-H',
      '-o',
      'name',
      '-t',
      'filesystem',
      '-r',
      rig.dataset.slice(0, rig.dataset.lastIndexOf('/')),
    ])
  )
    .split('\n')
    .filter((name) => name.includes('-browse-'));
  assert.deepEqual(browseLeft, [], 'browse clones are gone');
});

/** Starts a slow (bandwidth-limited) restore of the oldest snapshot and waits until rsync copies. */
async function startSlowRestore(): Promise<{ workflowId: string; runId: string }> {
  const out = await mkdtemp(join(rig.dir, 'slow-'));
  const run = await restoreCli(['--snapshot', taken[0]!.name, '--to', out, '--bwlimit', '1000']);
  assert.equal(run.exitCode, 0, run.stderr);
  const [, workflowId = '', runId = ''] = /started (\S+) run (\S+)/.exec(run.stderr) ?? [];
  const handle = rig.client.workflow.getHandle(workflowId, runId);
  await waitFor(
    'the restore to copy',
    async () => (await handle.query<{ phase: string }>('restoreProgress')).phase === 'copying',
    60_000,
  );
  await waitFor('rsync to start writing', async () => existsSync(join(out, rig.source)), 30_000);
  return { workflowId, runId };
}

test('cancel stops rsync and leaves no clone and no hold; the next run cleans up what a dead one left', async () => {
  const { workflowId, runId } = await startSlowRestore();
  assert.equal((await restoreClones()).length, 1);
  assert.equal(await holds(taken[0]!.name), 1);
  const handle = rig.client.workflow.getHandle(workflowId, runId);
  await handle.cancel();
  await assert.rejects(handle.result());
  assert.deepEqual(await restoreClones(), []);
  assert.equal(await holds(taken[0]!.name), 0);
  const rsyncs = await execa('pgrep', ['-f', `rsync.*${rig.dataset}-restore-`], { reject: false });
  assert.equal(rsyncs.stdout.trim(), '', 'no rsync left reading the clone');

  // What a restore whose worker was SIGKILLed leaves: its clone and its hold, for a run that is closed.
  const deadRun = randomUUID();
  const snapshot = `${rig.dataset}@${taken[1]!.name}`;
  await zfs([
    'clone',
    '-o',
    `tidemark:reader=run restore:dead ${deadRun}`,
    snapshot,
    `${rig.dataset}-restore-${deadRun}`,
  ]);
  await zfs(['set', `tidemark:restore-${deadRun}=restore:dead`, snapshot]);
  await zfs(['hold', `tidemark-restore-${deadRun}`, snapshot]);
  // A clone without the owner mark is not a restore's: it is never touched.
  const foreign = `${rig.dataset}-restore-by-hand`;
  await zfs(['clone', snapshot, foreign]);
  const out = await mkdtemp(join(rig.dir, 'next-'));
  await restoreJson(['--path', join(rig.source, 'run-me.sh'), '--to', out]);
  assert.deepEqual(await restoreClones(), [foreign]);
  assert.equal(await holds(taken[1]!.name), 0);
  await waitFor(
    'the hand-made clone to be destroyed',
    async () =>
      await zfs(['destroy', foreign]).then(
        () => true,
        () => false,
      ),
    10_000,
  );
});

test('a worker SIGKILLed during a restore: its rsync dies with it, and once a worker is back the run leaves no clone and no hold', async () => {
  const { workflowId, runId } = await startSlowRestore();
  assert.equal((await restoreClones()).length, 1);
  const workers = (await execa('pgrep', ['-f', `worker --server ${rig.server}`], { reject: false })).stdout
    .split('\n')
    .filter(Boolean)
    .map(Number);
  assert.ok(workers.length > 0, 'the rig worker runs');
  for (const pid of workers) process.kill(pid, 'SIGKILL');
  await waitFor(
    'rsync gone with its worker',
    async () =>
      (await execa('pgrep', ['-f', `rsync.*${rig.dataset}-restore-`], { reject: false })).stdout.trim() === '',
    15_000,
  );
  await rig.startWorker();
  // The run itself is durable: cancelling it now runs its close step on the new worker.
  const handle = rig.client.workflow.getHandle(workflowId, runId);
  await handle.cancel();
  await assert.rejects(handle.result());
  assert.deepEqual(await restoreClones(), []);
  assert.equal(await holds(taken[0]!.name), 0);
});

test('retention running during a restore does not destroy the snapshot being read', async () => {
  // A policy under which only the newest snapshot stays.
  setHostSettings(rig, { retention: { daily: 1 } });
  const { workflowId, runId } = await startSlowRestore();
  const prune = await rig.cli(['prune', '--host', rig.hostName, '--json']);
  const report = JSON.parse(prune.stdout) as PruneReport;
  // The policy takes every other old snapshot; the one being read is kept as held.
  assert.ok(report.result?.destroyed.includes(taken[1]!.name), JSON.stringify(report.result));
  const row = report.snapshots.find((entry) => entry.name === taken[0]!.name);
  assert.deepEqual([row?.keep, row?.kind, row?.reasons.includes('held')], [true, 'held', true], JSON.stringify(row));
  assert.ok((await rig.snapshots()).includes(taken[0]!.name));

  const summary = (await rig.client.workflow.getHandle(workflowId, runId).result()) as RestoreSummary;
  assert.equal(summary.snapshot, taken[0]!.name);
  assert.ok(summary.bytesTransferred > 20_000_000, `the whole tree was copied (${summary.bytesTransferred} bytes)`);
  // Released: now retention may take it.
  const after = JSON.parse((await rig.cli(['prune', '--host', rig.hostName, '--json'])).stdout) as PruneReport;
  assert.ok(after.result?.destroyed.includes(taken[0]!.name), JSON.stringify(after.result));
});
