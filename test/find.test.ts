// `tidemark find PATTERN --host H`: a glob on names (or, with a "/", on whole paths) across the host's
// snapshots, like `restic find`: the snapshots holding a match, oldest first, with each match's type and size;
// a symlink the host made is listed, never followed (its target's files on the backup server are not found).
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
/** A directory outside the host's tree, on the backup server, that a host-made symlink points to. */
let outside: string;

interface Found {
  snapshots: Array<{ snapshot: string; matches: Array<{ path: string; type: string; size: number }> }>;
  searched: number;
}

before(async () => {
  rig = await createRig('find');
  outside = join(rig.dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.conf'), "not the host's");
  mkdirSync(join(rig.source, 'etc', 'app'), { recursive: true });
  writeFileSync(join(rig.source, 'etc', 'app', 'main.conf'), 'a=1\n');
  writeFileSync(join(rig.source, 'notes.txt'), 'x');
  symlinkSync(outside, join(rig.source, 'escape'));
  await rig.startWorker();
  await backup();
  writeFileSync(join(rig.source, 'etc', 'Extra.CONF'), 'b=2\n');
  await backup();
});
after(async () => {
  await rig?.close();
});

async function backup(): Promise<void> {
  const result = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
}

async function find(...args: string[]): Promise<Found> {
  const result = await rig.cli(['find', '--host', rig.hostName, '--json', ...args]);
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  return JSON.parse(result.stdout) as Found;
}

const paths = (found: Found) => found.snapshots.map((entry) => entry.matches.map((match) => match.path));

test('a name glob finds the matches of every snapshot, and follows no host-made symlink', async () => {
  const found = await find('*.conf');
  assert.equal(found.searched, 2);
  const main = join(rig.source, 'etc/app/main.conf');
  assert.deepEqual(paths(found), [[main], [main]]);
  assert.equal(found.snapshots[0]!.matches[0]!.type, 'file');
  assert.equal(found.snapshots[0]!.matches[0]!.size, 4);
  // The symlink itself is an entry like any other.
  assert.deepEqual(paths(await find('escape')), [[join(rig.source, 'escape')], [join(rig.source, 'escape')]]);
  assert.equal((await find('escape')).snapshots[0]!.matches[0]!.type, 'symlink');
  assert.deepEqual(paths(await find('secret.conf')), [], 'nothing behind the symlink');
});

test('--ignore-case, a path glob, and the human output', async () => {
  const extra = join(rig.source, 'etc/Extra.CONF');
  const main = join(rig.source, 'etc/app/main.conf');
  assert.deepEqual(paths(await find('--ignore-case', '*.conf')), [[main], [extra, main]]);
  assert.deepEqual(paths(await find(`${rig.source}/etc/*/*.conf`)), [[main], [main]]);
  const human = await rig.cli(['find', '--host', rig.hostName, 'notes.*']);
  assert.equal(human.exitCode, 0, human.stderr);
  assert.match(human.stdout, /^"notes\.\*" in \S+/);
  assert.match(human.stdout, new RegExp(`^  file\\s+1B\\s+\\S+Z  ${join(rig.source, 'notes.txt')}$`, 'm'));
  const none = await rig.cli(['find', '--host', rig.hostName, 'nothing-*']);
  assert.match(none.stdout, /no match in any of its 2 snapshots/);
});

test('an empty pattern is refused naming PATTERN', async () => {
  const result = await rig.cli(['find', '--host', rig.hostName, '']);
  assert.equal(result.exitCode, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /PATTERN: give a glob/);
});
