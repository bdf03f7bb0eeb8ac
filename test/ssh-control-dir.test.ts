// The folder of the ssh control sockets: whatever is found there, planning goes on; only a real, private
// directory of ours gets the run's socket.
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { sshForRun } from '../activities/plan.js';
import { defaultControlDir } from '../activities/ssh-control-dir.js';

const base = mkdtempSync(join(tmpdir(), 'tidemark-control-dir-'));
const keys = { identityFile: '/etc/tidemark/id_ed25519', knownHostsFile: '/etc/tidemark/known_hosts' };

async function plan(controlDir: string): Promise<{ controlPath?: string; warnings: string[] }> {
  const warnings: string[] = [];
  const ssh = await sshForRun({ ...keys, multiplex: true, controlDir }, 'web', (message) => warnings.push(message));
  assert.equal(ssh.identityFile, keys.identityFile);
  return { ...(ssh.controlPath ? { controlPath: ssh.controlPath } : {}), warnings };
}

test('a missing folder is made with mode 0700 and gets a fresh socket path', async () => {
  const dir = join(base, 'fresh', 'ssh');
  const { controlPath, warnings } = await plan(dir);
  assert.deepEqual(warnings, []);
  assert.equal(dirname(controlPath ?? ''), dir);
  assert.match(controlPath ?? '', /\/[0-9a-f]{16}$/);
  const folder = lstatSync(dir);
  assert.ok(folder.isDirectory());
  assert.equal(folder.mode & 0o777, 0o700);
  assert.notEqual((await plan(dir)).controlPath, controlPath, 'every run its own socket');
});

test('a dangling symlink at the folder: planning succeeds without multiplexing and says why', async () => {
  const dir = join(base, 'dangling');
  symlinkSync(join(base, 'nowhere'), dir);
  const { controlPath, warnings } = await plan(dir);
  assert.equal(controlPath, undefined);
  assert.deepEqual(warnings, [
    `ssh control folder ${dir} (ssh.controlDir): it is a symbolic link; remove it (a real directory with mode 700 is made in its place). ` +
      'This run logs in once per step instead of sharing one ssh connection.',
  ]);
  assert.equal(existsSync(join(base, 'nowhere')), false, 'nothing was made at the link target');
});

test('a symlink to a private directory of ours is refused too (the link could be changed)', async () => {
  const target = join(base, 'real');
  mkdirSync(target, { mode: 0o700 });
  const dir = join(base, 'link');
  symlinkSync(target, dir);
  const { controlPath, warnings } = await plan(dir);
  assert.equal(controlPath, undefined);
  assert.match(warnings[0] ?? '', /it is a symbolic link/);
});

test('a plain file at the folder: planning succeeds without multiplexing and says why', async () => {
  const dir = join(base, 'file');
  writeFileSync(dir, '');
  const { controlPath, warnings } = await plan(dir);
  assert.equal(controlPath, undefined);
  assert.match(
    warnings[0] ?? '',
    new RegExp(`^ssh control folder ${dir} \\(ssh\\.controlDir\\): it is not a directory; remove it`),
  );
});

test('a folder others can enter: no multiplexing, with the fix', async () => {
  const open = join(base, 'open');
  mkdirSync(open);
  chmodSync(open, 0o755);
  const { controlPath, warnings } = await plan(open);
  assert.equal(controlPath, undefined);
  assert.match(warnings[0] ?? '', new RegExp(`its mode is 755, so others can enter it; chmod 700 ${open}\\.`));
});

const uid = process.getuid?.();
test(
  'a folder of another user: no multiplexing, naming its owner',
  { skip: uid !== 0 && 'needs root to hand a folder to another user' },
  async () => {
    const foreign = join(base, 'foreign');
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, 65534, 65534);
    const { controlPath, warnings } = await plan(foreign);
    assert.equal(controlPath, undefined);
    assert.match(
      warnings[0] ?? '',
      /it belongs to uid 65534, not to this worker's uid 0; remove it or set ssh\.controlDir/,
    );
  },
);

test('default folder: /run/tidemark/ssh for root, else $XDG_RUNTIME_DIR/tidemark-ssh, else one in the temp folder', () => {
  assert.equal(defaultControlDir(0, { XDG_RUNTIME_DIR: '/run/user/0' }), '/run/tidemark/ssh');
  assert.equal(defaultControlDir(1000, { XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/tidemark-ssh');
  assert.equal(defaultControlDir(1000, { XDG_RUNTIME_DIR: 'relative' }), join(tmpdir(), 'tidemark-ssh-1000'));
  assert.equal(defaultControlDir(1000, {}), join(tmpdir(), 'tidemark-ssh-1000'));
});

test('a folder under a parent others may write: no multiplexing, naming the parent', async () => {
  const shared = join(base, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  const dir = join(shared, 'deeper', 'ssh');
  const { controlPath, warnings } = await plan(dir);
  assert.equal(controlPath, undefined);
  assert.match(
    warnings[0] ?? '',
    new RegExp(`its parent ${shared} has mode 777, so others could replace it; chmod go-w ${shared}`),
  );
  assert.equal(existsSync(join(shared, 'deeper')), false, 'nothing was made under the unsafe parent');
});

test('a sticky world-writable parent (as /tmp) is fine: only we may rename what is ours in it', async () => {
  const sticky = join(base, 'sticky');
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777);
  const { controlPath, warnings } = await plan(join(sticky, 'ssh'));
  assert.deepEqual(warnings, []);
  assert.equal(dirname(controlPath ?? ''), join(sticky, 'ssh'));
});

test('a symlinked parent is judged where it leads', async () => {
  const open = join(base, 'open-target');
  mkdirSync(open);
  chmodSync(open, 0o757);
  symlinkSync(open, join(base, 'via-link'));
  const { controlPath, warnings } = await plan(join(base, 'via-link', 'ssh'));
  assert.equal(controlPath, undefined);
  assert.match(warnings[0] ?? '', new RegExp(`its parent ${open} has mode 757`));
});

test(
  'a parent of another user: no multiplexing, naming the parent and its owner',
  { skip: uid !== 0 && 'needs root to hand a folder to another user' },
  async () => {
    const theirs = join(base, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, 65534, 65534);
    const { controlPath, warnings } = await plan(join(theirs, 'ssh'));
    assert.equal(controlPath, undefined);
    assert.match(warnings[0] ?? '', new RegExp(`its parent ${theirs} belongs to uid 65534, who could replace it`));
  },
);
