// A host onboarded with `tidemark host-setup`: a non-root user whose key is restricted to the ssh filter,
// with sudo only for what host-setup prints (rsync's sender, the hook run-parts, verify's stat and sha256sum,
// a receiving rsync beneath the host's restoreRoot). Backup, verify and restore --to-host go through it.
// Real sshd, sudo, rsync, zfs-fuse and workers.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { packagedFilterPath } from '../client/host-setup.js';
import { editInventory, setHostSettings } from './helpers/inventory-edit.js';
import { installHostSetup } from './helpers/host-setup.js';
import { createRig, withSnapshotClone, type Rig } from './helpers/rig.js';
import { buildSampleTree, describeTree } from './helpers/tree.js';

const user = 'tmbackup';
// One file per test process: two runs of this file (worktrees) must not remove each other's rules.
const sudoersFile = `/etc/sudoers.d/tidemark-test-${process.pid}`;
let rig: Rig;
let setupText: string;
let restoreRoot: string;

/** The ssh the worker uses, as the restricted user. */
function sshArgs(...extra: string[]): string[] {
  return [
    '-F',
    '/dev/null',
    '-p',
    String(rig.host.port),
    '-i',
    rig.host.identityFile,
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${rig.host.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-l',
    user,
    ...extra,
  ];
}

before(async () => {
  if ((await execa('id', ['-u', user], { reject: false })).exitCode !== 0) {
    await execa('useradd', ['--system', '--shell', '/bin/sh', '--home-dir', '/nonexistent', '--no-create-home', user]);
  }
  // sshd without PAM refuses accounts whose password field starts with "!" (locked), keys included.
  await execa('usermod', ['-p', '*', user]);
  rig = await createRig('leastpriv');
  await buildSampleTree(rig.source);
  // sshd reads authorized_keys, and the probe its directories, as the user: let it through the rig's folders.
  chmodSync(rig.dir, 0o755);
  chmodSync(join(rig.dir, 'ssh'), 0o755);
  const hooks = join(rig.dir, 'backup-scripts');
  mkdirSync(hooks);
  writeFileSync(join(hooks, '10-whoami'), `#!/bin/sh\nid -u > ${join(rig.dir, 'hook-ran-as')}\n`);
  chmodSync(join(hooks, '10-whoami'), 0o755);
  setHostSettings(rig, {
    user,
    sudo: true,
    hooks: { dir: hooks, timeout: '2m' },
    veto: { dir: join(rig.dir, 'do-not-run.d') },
    excludeFile: join(rig.dir, 'backup-exclude.conf'),
    restoreRoot: (restoreRoot = join(rig.dir, 'restore-root')),
  });
  editInventory(rig, (inventory) => {
    inventory.servers[rig.server].address = '127.0.0.0/8';
  });
  const configPath = join(rig.dir, 'tidemark-ssh-filter.conf');
  const lines = await installHostSetup(rig, configPath);
  setupText = lines.join('\n');
  writeFileSync(sudoersFile, `${lines.filter((line) => line.startsWith(`${user} ALL=`)).join('\n')}\n`, {
    mode: 0o440,
  });
  await execa('visudo', ['-cf', sudoersFile]);
  await rig.startWorker();
});
after(async () => {
  rmSync(sudoersFile, { force: true });
  await rig?.close();
});

test('host-setup prints a restricted key line, the filter settings and sudoers lines for the user', () => {
  const keyLine = setupText.split('\n').find((line) => line.startsWith('restrict,'));
  const publicKey = readFileSync(`${rig.host.identityFile}.pub`, 'utf8').trim();
  assert.equal(
    keyLine,
    `restrict,from="127.0.0.0/8",command="${packagedFilterPath} ${join(rig.dir, 'tidemark-ssh-filter.conf')}" ${publicKey}`,
  );
  assert.match(setupText, /^sudo=yes$/m);
  assert.match(
    setupText,
    /^tmbackup ALL=\(root\) NOPASSWD: \/usr\/bin\/timeout -k 10 120 run-parts --report \S+\/backup-scripts$/m,
  );
  assert.match(setupText, /^tmbackup ALL=\(root\) NOPASSWD: \/usr\/bin\/rsync --server --sender -\*$/m);
  assert.match(setupText, /^tmbackup ALL=\(root\) NOPASSWD: \/usr\/bin\/stat --printf \*$/m);
  assert.match(setupText, /^tmbackup ALL=\(root\) NOPASSWD: \/usr\/bin\/sha256sum -z -- \*$/m);
  assert.ok(
    setupText.includes(`tmbackup ALL=(root) NOPASSWD: /usr/bin/rsync --server -* . ${restoreRoot}/*`),
    setupText,
  );
  assert.match(setupText, /^verify=xargs -0 -r sudo -n stat /m);
  assert.match(setupText, /^verify=xargs -0 -r sudo -n sha256sum /m);
  assert.ok(setupText.includes(`restore-root=${restoreRoot}\n`), setupText);
  assert.ok(setupText.includes(`tmbackup ALL=(root) NOPASSWD: /usr/bin/mkdir -m 0700 -- ${restoreRoot}/*`), setupText);
  assert.match(
    setupText,
    new RegExp(`^restore-target=root='${restoreRoot}'; .*sudo -n mkdir -m 0700 -- "\\$dir"`, 'm'),
  );
});

test('a backup as the restricted user with sudo is complete: owners, ACLs and xattrs; the hooks ran as root', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait'], { timeoutMs: 180_000 });
  assert.equal(run.exitCode, 0, run.stderr + run.stdout + rig.workerOutput());
  assert.match(run.stdout, /SUCCESS: demo-host/);
  const copy = join(await rig.copyPath(), rig.source);
  assert.deepEqual(await describeTree(copy), await describeTree(rig.source));
  assert.equal(readFileSync(join(rig.dir, 'hook-ran-as'), 'utf8').trim(), '0');
});

test('with the same key, a command, a shell and an rsync writing to the host are refused', async () => {
  const id = await execa('ssh', sshArgs('--', rig.host.address, 'id'), { reject: false });
  assert.equal(id.exitCode, 1);
  assert.match(id.stderr, /tidemark-ssh-filter: refused: not a Tidemark command: id/);
  assert.doesNotMatch(id.stdout, /uid=/);

  // A login without a command still runs the filter, which finds nothing to run.
  const shell = await execa('ssh', sshArgs('-T', '--', rig.host.address), { reject: false, input: 'id\nexit 0\n' });
  assert.equal(shell.exitCode, 1, shell.stdout + shell.stderr);
  assert.match(shell.stderr, /refused: no command given/);
  assert.doesNotMatch(shell.stdout, /uid=/);
  // An interactive terminal: "restrict" refuses the pty, and ssh gives up.
  const terminal = await execa('ssh', sshArgs('-tt', '--', rig.host.address), { reject: false, input: 'id\nexit 0\n' });
  assert.equal(terminal.exitCode, 255, terminal.stdout + terminal.stderr);
  assert.match(terminal.stderr, /PTY allocation request failed/);
  assert.doesNotMatch(terminal.stdout, /uid=/);

  const target = join(rig.dir, 'written-by-push');
  const push = await execa(
    'rsync',
    ['-a', `--rsh=ssh ${sshArgs().join(' ')}`, `${rig.source}/`, `${user}@${rig.host.address}:${target}/`],
    { reject: false },
  );
  assert.notEqual(push.exitCode, 0);
  assert.match(push.stderr, /refused: rsync without --secluded-args/);
  assert.equal(existsSync(target), false);

  // The pull form with a write hidden in the secluded arguments (the sender deleting what it sent).
  const victim = join(rig.source, 'etc/hostname-copy');
  writeFileSync(victim, 'keep me\n');
  const remove = await execa(
    'rsync',
    [
      '-a',
      '--secluded-args',
      '--remove-source-files',
      '--rsync-path=sudo rsync',
      `--rsh=ssh ${sshArgs().join(' ')}`,
      `${user}@${rig.host.address}:${victim}`,
      join(rig.dir, 'pulled'),
    ],
    { reject: false },
  );
  assert.notEqual(remove.exitCode, 0);
  assert.match(remove.stderr, /refused: rsync option --remove-source-files is not one Tidemark sends/);
  assert.equal(readFileSync(victim, 'utf8'), 'keep me\n');
});

test('verify through the filter: stat and sha256sum as root via sudo, every sampled file verified', async () => {
  const run = await rig.cli(['verify', '--host', rig.hostName, '--sample', '1000', '--json'], { timeoutMs: 180_000 });
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  const report = JSON.parse(run.stdout) as { verified: number; mismatched: number; skipped: number; sampled: number };
  assert.ok(report.sampled > 0);
  // secret.key is root's only (0600): only sudo stat/sha256sum could have read it.
  assert.deepEqual([report.verified, report.mismatched, report.skipped], [report.sampled, 0, 0], run.stdout);
});

test('restore --to-host through the filter writes into a fresh 0700 directory beneath the restoreRoot (the default target), identical to the source; elsewhere is refused', async () => {
  const snapshot = (await rig.snapshots()).at(-1)!;
  const run = await rig.cli(['restore', '--host', rig.hostName, '--to-host', rig.hostName, '--wait'], {
    timeoutMs: 180_000,
  });
  assert.equal(run.exitCode, 0, run.stderr + run.stdout + rig.workerOutput());
  const made = readdirSync(restoreRoot);
  assert.equal(made.length, 1, made.join());
  assert.match(made[0]!, new RegExp(`^${snapshot}-[0-9a-f]{8}$`));
  assert.ok(run.stdout.includes(`${rig.hostName}:${join(restoreRoot, made[0]!)}/`), run.stdout);
  const target = lstatSync(join(restoreRoot, made[0]!));
  assert.deepEqual([target.isDirectory(), target.mode & 0o777, target.uid], [true, 0o700, 0]);
  const restored = join(restoreRoot, made[0]!, rig.source);
  assert.deepEqual(
    await describeTree(restored),
    await withSnapshotClone(rig.dataset, snapshot, (path) => describeTree(join(path, rig.source))),
  );

  const outside = join(rig.dir, 'outside-the-root');
  const refused = await rig.cli(
    ['restore', '--host', rig.hostName, '--to-host', rig.hostName, '--target-dir', outside, '--wait'],
    { timeoutMs: 180_000 },
  );
  assert.equal(refused.exitCode, 1, refused.stderr);
  assert.match(refused.stderr, /refused: rsync may write only beneath/);
  assert.equal(existsSync(outside), false);
});

test('the default target is checked over ssh first: a restore root others may write to is refused, and so is a filter config without the restore-target line', async () => {
  const restore = () =>
    rig.cli(
      ['restore', '--host', rig.hostName, '--path', join(rig.source, 'etc'), '--to-host', rig.hostName, '--wait'],
      {
        timeoutMs: 180_000,
      },
    );
  const before = readdirSync(restoreRoot).sort();
  chmodSync(restoreRoot, 0o1777);
  try {
    const shared = await restore();
    assert.equal(shared.exitCode, 1, shared.stderr + shared.stdout);
    assert.match(
      shared.stderr,
      /restore target \S+ was not made, nothing was written: tidemark: restore root \S+ is writable by group or others \(mode 1777\)/,
    );
    assert.deepEqual(readdirSync(restoreRoot).sort(), before);
  } finally {
    chmodSync(restoreRoot, 0o755);
  }

  // A host set up before restore-target= existed: the filter refuses the step, and the error says what to install.
  const configPath = join(rig.dir, 'tidemark-ssh-filter.conf');
  const current = readFileSync(configPath, 'utf8');
  writeFileSync(configPath, current.replace(/^restore-target=.*\n/m, ''));
  try {
    const old = await restore();
    assert.equal(old.exitCode, 1, old.stderr + old.stdout);
    assert.match(
      old.stderr,
      /does not admit the step that makes a fresh target .*tidemark host-setup --host \S+. prints now \(its restore-target= line\), or pass --target-dir/,
    );
    assert.deepEqual(readdirSync(restoreRoot).sort(), before);
  } finally {
    writeFileSync(configPath, current);
  }
});
