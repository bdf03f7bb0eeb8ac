// Host copies are private to root on the backup server: the server dataset's mountpoint is made 0700 root
// before each run (with a WARNING when it was not), so no local user can traverse into any host's copy,
// its snapshots' clones or restore clones, whatever modes the host's own directories have. A real non-root
// user (nobody) tries.
import assert from 'node:assert/strict';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { zfs } from '../pool/zfs.js';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;

before(async () => {
  rig = await createRig('copies-private', { host: { quota: '64M' } });
  await mkdir(join(rig.source, 'home/user'), { recursive: true });
  await writeFile(join(rig.source, 'home/user/notes.txt'), 'private notes\n');
  // Like a host's "/": every directory on the way world-readable.
  for (const dir of [rig.dir, rig.source, join(rig.source, 'home'), join(rig.source, 'home/user')])
    await chmod(dir, 0o755);
  await chmod(join(rig.source, 'home/user/notes.txt'), 0o644);
  await rig.startWorker();
});
after(() => rig.close());

/** Reads `file` as the unprivileged user nobody; resolves with cat's exit code. */
async function readAsNobody(file: string): Promise<number> {
  const run = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', file], {
    reject: false,
  });
  return run.exitCode ?? -1;
}

test("a local user cannot read a host's file in its copy; the server dataset's mountpoint is 0700 root, with a WARNING when someone loosened it", async () => {
  const first = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.match(first.stdout, /^SUCCESS: /m, first.stdout + first.stderr);
  const copy = join(await rig.copyPath(), rig.source, 'home/user/notes.txt');
  assert.equal((await stat(copy)).mode & 0o777, 0o644, 'the copy keeps the host file mode');
  assert.notEqual(await readAsNobody(copy), 0, 'nobody read a host file from the copy');
  const mount = dirname(await rig.copyPath());
  const mode = await stat(mount);
  assert.equal(mode.mode & 0o777, 0o700, mount);
  assert.equal(mode.uid, 0);

  assert.match(rig.workerOutput(), /was mode 0755.*set to 0700 root/, 'the worker logged a WARNING');

  // Loosened again by someone: the next run fixes it and logs it again.
  await chmod(mount, 0o755);
  const logged = rig.workerOutput().length;
  const second = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(second.exitCode, 0, second.stdout + second.stderr);
  assert.match(rig.workerOutput().slice(logged), /was mode 0755.*set to 0700 root/);
  assert.equal((await stat(mount)).mode & 0o777, 0o700);
  assert.notEqual(await readAsNobody(copy), 0);
});

test("hosts.<name>.quota becomes the host dataset's ZFS quota: one host cannot fill the shared pool", async () => {
  assert.equal((await zfs(['get', '-H', '-o', 'value', 'quota', rig.dataset])).trim(), '64M');
});
