// Restore and browse never leave the snapshot, and never turn a host's copy against the backup server:
// a symlink the host made is not followed out of the snapshot (restore, files, history); a local restore
// recreates no device nodes, FIFOs or setuid bits unless asked; "/tmp/.." and symlinked targets are
// refused after resolving them; and the restore's rsync ignores RSYNC_OLD_ARGS in the worker's environment.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
const serverKey = 'THE BACKUP SERVER OWN KEY\n';
const marker = `/tmp/tidemark-pwned-${randomBytes(6).toString('hex')}`;

before(async () => {
  rig = await createRig('restore-escape');
  // The server's secret, outside any snapshot; the host links a home directory to it.
  await mkdir(join(rig.dir, 'server-etc'), { recursive: true });
  await writeFile(join(rig.dir, 'server-etc', 'id_ed25519'), serverKey);
  await mkdir(join(rig.source, 'home'), { recursive: true });
  await symlink(join(rig.dir, 'server-etc'), join(rig.source, 'home', 'alice'));
  await mkdir(join(rig.source, 'bin'), { recursive: true });
  await writeFile(join(rig.source, 'bin', 'rootshell'), '#!/bin/sh\n');
  await chmod(join(rig.source, 'bin', 'rootshell'), 0o4755);
  await mkdir(join(rig.source, 'dev'), { recursive: true });
  await execa('mknod', ['-m', '666', join(rig.source, 'dev', 'mem'), 'c', '1', '1']);
  await execa('mkfifo', [join(rig.source, 'dev', 'pipe')]);
  await writeFile(join(rig.source, 'gone.txt'), 'deleted after the backup\n');
  // The worker's environment carries RSYNC_OLD_ARGS=1: the restore's rsync must not obey it.
  process.env.RSYNC_OLD_ARGS = '1';
  try {
    await rig.startWorker();
  } finally {
    delete process.env.RSYNC_OLD_ARGS;
  }
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  await rm(join(rig.source, 'gone.txt'));
});
after(async () => {
  await rm(marker, { force: true });
  await rig.close();
});

const restore = (args: string[]) => rig.cli(['restore', '--host', rig.hostName, ...args, '--wait']);

/** Every regular file's content under `dir`. */
async function contents(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) found.push(await execa('cat', [join(entry.parentPath, entry.name)]).then((r) => r.stdout));
  }
  return found;
}

test("a symlink the host made does not deliver the backup server's own file", async () => {
  const out = await mkdtemp(join(rig.dir, 'out-'));
  const run = await restore(['--path', join(rig.source, 'home/alice/id_ed25519'), '--to', out]);
  assert.equal(run.exitCode, 2, run.stderr + run.stdout);
  assert.match(run.stderr, /symlink/);
  assert.ok(!(await contents(out)).some((text) => text.includes('OWN KEY')), 'the server key was restored');
});

test('files and history do not look through a symlink the host made', async () => {
  const files = await rig.cli(['files', '--host', rig.hostName, join(rig.source, 'home/alice'), '--json']);
  assert.doesNotMatch(files.stdout, /id_ed25519/);
  const history = await rig.cli([
    'history',
    '--host',
    rig.hostName,
    join(rig.source, 'home/alice/id_ed25519'),
    '--json',
  ]);
  assert.doesNotMatch(history.stdout, /"size":\s*26/);
  assert.equal(JSON.parse(history.stdout || '{"snapshots":[]}').snapshots?.length ?? 0, 0, history.stdout);
});

test('a local restore recreates no device node, FIFO or setuid bit unless --special-files asks for them', async () => {
  const out = await mkdtemp(join(rig.dir, 'out-'));
  const run = await restore(['--path', join(rig.source, 'bin'), '--path', join(rig.source, 'dev'), '--to', out]);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  const shell = await lstat(join(out, rig.source, 'bin/rootshell'));
  assert.equal(shell.mode & 0o6000, 0, 'the setuid bit came back');
  assert.equal(existsSync(join(out, rig.source, 'dev/mem')), false, 'a world-writable /dev/mem node came back');
  assert.equal(existsSync(join(out, rig.source, 'dev/pipe')), false);

  const asked = await mkdtemp(join(rig.dir, 'out-'));
  const full = await restore(['--path', join(rig.source, 'dev'), '--to', asked, '--special-files']);
  assert.equal(full.exitCode, 0, full.stderr + full.stdout);
  assert.ok((await lstat(join(asked, rig.source, 'dev/mem'))).isCharacterDevice());
});

test('"/tmp/.." and a symlinked target are refused: they lead over the live system or out of the restore roots', async () => {
  const dotdot = await restore(['--path', join(rig.source, 'gone.txt'), '--to', '/tmp/..']);
  assert.equal(dotdot.exitCode, 2, dotdot.stderr + dotdot.stdout);
  assert.equal(existsSync(join(rig.source, 'gone.txt')), false, 'the restore wrote over the live system');
  const link = join(rig.dir, 'to-source');
  await symlink('/', link);
  const linked = await restore(['--path', join(rig.source, 'gone.txt'), '--to', link]);
  assert.equal(linked.exitCode, 2, linked.stderr + linked.stdout);
  assert.match(linked.stderr, /symlink/);
  assert.equal(existsSync(join(rig.source, 'gone.txt')), false, 'the restore followed the planted symlink');
});

test("RSYNC_OLD_ARGS=1 in the worker's environment does not hand a target directory to the host's shell", async () => {
  const target = join(rig.dir, `pushed;touch ${marker}`);
  const run = await rig.cli([
    'restore',
    '--host',
    rig.hostName,
    '--path',
    join(rig.source, 'bin'),
    '--to-host',
    rig.hostName,
    '--target-dir',
    target,
    '--wait',
  ]);
  assert.equal(existsSync(marker), false, "the host's shell ran the target directory's command");
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  assert.ok(existsSync(join(target, rig.source, 'bin/rootshell')));
});
