// The default `restore --to-host` target: a fresh name per restore, and the host-side command that checks
// the restore root and makes the target, run here by a real /bin/sh against real directories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { defaultHostTargetDir, freshTargetCommand, freshTargetName } from '../domain/restore-target.js';

const snapshot = 'tidemark-20261101T020000Z';

test('each default target is <restoreRoot>/<snapshot>-<nonce>/; only that shape is made fresh', () => {
  assert.equal(
    defaultHostTargetDir(snapshot, '0a1b2c3d'),
    '/var/lib/tidemark/restore/tidemark-20261101T020000Z-0a1b2c3d/',
  );
  assert.equal(defaultHostTargetDir(snapshot, '0a1b2c3d', '/srv/restore/'), `/srv/restore/${snapshot}-0a1b2c3d/`);
  assert.throws(() => defaultHostTargetDir(snapshot, '../x'), /expected 8 hex digits/);
  assert.equal(freshTargetName(`/srv/restore/${snapshot}-0a1b2c3d/`, snapshot, '/srv/restore'), `${snapshot}-0a1b2c3d`);
  // An operator's --target-dir is written to as given.
  assert.equal(freshTargetName('/srv/restore/mine/', snapshot, '/srv/restore'), undefined);
  assert.equal(freshTargetName(`/srv/other/${snapshot}-0a1b2c3d/`, snapshot, '/srv/restore'), undefined);
  assert.equal(freshTargetName(`/srv/restore/${snapshot}-0a1b2c3d/x/`, snapshot, '/srv/restore'), undefined);
  assert.throws(() => freshTargetCommand("/srv/it's", false), /restoreRoot "\/srv\/it's" holds characters/);
  assert.ok(!freshTargetCommand('/srv/restore', true).includes('\\'), 'the filter config cannot hold a backslash');
});

async function makeTarget(root: string, name: string) {
  return execa('/bin/sh', ['-c', freshTargetCommand(root, false)], { input: `${name}\n`, reject: false });
}

test('the host command makes a missing root and a fresh 0700 target, and accepts that target again (a retry)', async () => {
  const base = mkdtempSync(join(tmpdir(), 'restore-target-'));
  chmodSync(base, 0o755);
  const root = join(base, 'restore');
  const made = await makeTarget(root, `${snapshot}-0a1b2c3d`);
  assert.equal(made.exitCode, 0, made.stderr);
  const target = lstatSync(join(root, `${snapshot}-0a1b2c3d`));
  assert.ok(target.isDirectory());
  assert.equal(target.mode & 0o777, 0o700);
  assert.equal(target.uid, process.getuid!());
  assert.equal((await makeTarget(root, `${snapshot}-0a1b2c3d`)).exitCode, 0);
});

test('the host command refuses an unsafe root or a target someone prepared, and writes nothing', async () => {
  const base = mkdtempSync(join(tmpdir(), 'restore-target-'));
  chmodSync(base, 0o755);
  const refused = async (root: string, name: string, why: RegExp) => {
    const before = readdirSync(base).length;
    const run = await makeTarget(root, name);
    assert.equal(run.exitCode, 3, `${run.stdout}${run.stderr}`);
    assert.match(run.stderr, why);
    assert.equal(readdirSync(base).length, before);
  };
  const shared = join(base, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  await refused(shared, `${snapshot}-0a1b2c3d`, /restore root \S+shared is writable by group or others \(mode 1777\)/);
  assert.deepEqual(readdirSync(shared), []);

  const real = join(base, 'real');
  mkdirSync(real, { mode: 0o755 });
  const link = join(base, 'link');
  symlinkSync(real, link);
  await refused(
    link,
    `${snapshot}-0a1b2c3d`,
    /must be a directory owned by root, not a symlink \(owner:mode:type \d+:777:symbolic link\)/,
  );
  assert.deepEqual(readdirSync(real), []);

  const foreign = join(base, 'foreign');
  mkdirSync(foreign, { mode: 0o755 });
  chownSync(foreign, 1234, 1234);
  await refused(foreign, `${snapshot}-0a1b2c3d`, /owned by root, not a symlink \(owner:mode:type 1234:755:directory\)/);

  // Planted at the target's name: a symlink to elsewhere, or a directory others may write to.
  symlinkSync('/etc', join(real, `${snapshot}-0a1b2c3d`));
  await refused(
    real,
    `${snapshot}-0a1b2c3d`,
    /exists and is not a fresh 0700 directory \(owner:mode:type \d+:777:symbolic link\)/,
  );
  mkdirSync(join(real, `${snapshot}-11111111`), { mode: 0o755 });
  await refused(
    real,
    `${snapshot}-11111111`,
    /exists and is not a fresh 0700 directory \(owner:mode:type 0:755:directory\)/,
  );

  for (const name of ['../escape', '.hidden', 'a/b', ''])
    await refused(real, name, /restore directory name .* refused|no directory name/);
});

test('with sudo, a restore root owned by the login user is refused: rsync writes as root, so the root must be root’s', async () => {
  const base = mkdtempSync(join(tmpdir(), 'restore-target-'));
  chmodSync(base, 0o755);
  // The login user is uid 1234 here (an `id` that says so, first on PATH); sudo is this machine's own.
  const bin = join(base, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'id'), '#!/bin/sh\necho 1234\n', { mode: 0o755 });
  const owned = join(base, 'owned');
  mkdirSync(owned, { mode: 0o755 });
  chownSync(owned, 1234, 1234);
  const run = (sudo: boolean) =>
    execa('/bin/sh', ['-c', freshTargetCommand(owned, sudo)], {
      input: `${snapshot}-0a1b2c3d\n`,
      reject: false,
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
  const withSudo = await run(true);
  assert.equal(withSudo.exitCode, 3, withSudo.stdout + withSudo.stderr);
  assert.match(withSudo.stderr, /must be a directory owned by root.*1234:755:directory/);
  assert.deepEqual(readdirSync(owned), []);
  // Without sudo the login user writes as itself, into a root of its own.
  const withoutSudo = await run(false);
  assert.equal(withoutSudo.exitCode, 0, withoutSudo.stderr);
});
