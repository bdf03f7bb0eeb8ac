// Excludes from the built-in standard list, the inventory and the host's own exclude file
// are all honoured and counted; a newly excluded directory leaves the current copy on the next run while
// the previous snapshot keeps it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BackupSummary } from '../domain/backup.js';
import { standardExcludes } from '../domain/excludes.js';
import { backupWorkflowId } from '../domain/names.js';
import { setHostSettings } from './helpers/inventory-edit.js';
import { createRig, withSnapshotClone, type Rig } from './helpers/rig.js';

let rig: Rig;
let excludeFile: string;

function put(path: string, content = 'x\n'): void {
  const full = join(rig.source, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
}

before(async () => {
  rig = await createRig('excludes');
  excludeFile = join(rig.dir, 'etc-backup-exclude.conf');
  for (const path of [
    'etc/hostname',
    'home/ann/notes.txt',
    'srv/app/data.db',
    'srv/old-project/readme',
    // Standard list (relative to the selection root here):
    'swapfile',
    'swap.img',
    'tmp/session.sock.txt',
    'var/tmp/build.o',
    'var/log/journal/abc/system.journal',
    'var/log/syslog',
    'var/cache/apt/archives/vim_9.0_amd64.deb',
    'var/cache/apt/archives/partial/keep-dir-marker',
    'home/ann/.cache/thumbnails/a.png',
    'proc/1/status',
    // Inventory excludes:
    'srv/app/cache/blob',
    // Host file excludes:
    'var/lib/mysql/ibdata1',
    'home/ann/film.tmp',
  ]) {
    put(path);
  }
  writeFileSync(
    excludeFile,
    [
      '# databases are dumped by a hook instead',
      '',
      `${rig.source}/var/lib/mysql/`,
      '*.tmp',
      'var/spool',
      '+ /etc/shadow',
    ].join('\n'),
  );
  // The mount-table default confined to the rig's tree: a full-system backup, so the standard list applies.
  setHostSettings(rig, {
    paths: undefined,
    selectionRoot: rig.source,
    excludes: [`${rig.source}/srv/app/cache/`],
    excludeFile,
    hooks: { dir: join(rig.dir, 'no-hooks') },
    retention: { keepWithin: '7d' },
  });
  await rig.startWorker();
});
after(() => rig.close());

async function lastSummary(): Promise<BackupSummary> {
  return rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server)).result() as Promise<BackupSummary>;
}

test('standard, inventory and host-file excludes are all honoured, counted, and malformed host lines reported', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  const copy = join(await rig.copyPath(), rig.source);
  const present = (path: string) => existsSync(join(copy, path));
  for (const kept of [
    'etc/hostname',
    'home/ann/notes.txt',
    'srv/app/data.db',
    'srv/old-project/readme',
    'var/log/syslog',
    'var/cache/apt/archives/partial/keep-dir-marker',
  ]) {
    assert.ok(present(kept), `${kept} is copied`);
  }
  for (const gone of [
    'swapfile',
    'swap.img',
    'tmp/session.sock.txt',
    'var/tmp/build.o',
    'var/log/journal',
    'var/cache/apt/archives/vim_9.0_amd64.deb',
    'home/ann/.cache/thumbnails',
    'proc/1',
    'srv/app/cache',
    'var/lib/mysql',
    'home/ann/film.tmp',
  ]) {
    assert.ok(!present(gone), `${gone} is excluded`);
  }
  assert.ok(
    present('tmp') && present('proc') && present('var/tmp'),
    'the directories themselves stay (mount points, modes)',
  );

  const summary = await lastSummary();
  const excludes = summary.hostSteps!.excludes;
  // Standard list plus lost+found at the one selected filesystem; one inventory pattern; two good host lines.
  assert.deepEqual(
    { ...excludes, malformed: excludes.malformed.length },
    {
      standard: standardExcludes.length + 1,
      inventory: 1,
      host: 2,
      total: standardExcludes.length + 4,
      malformed: 2,
    },
  );
  assert.match(excludes.malformed[0]!, new RegExp(`${excludeFile} line 5: var/spool: relative path`));
  assert.match(excludes.malformed[1]!, /line 6: \+ \/etc\/shadow: includes and list resets are not allowed/);
});

test('a newly excluded directory disappears from the current copy; the previous snapshot keeps it', async () => {
  const [first] = await rig.snapshots();
  assert.ok(first);
  writeFileSync(excludeFile, `${rig.source}/var/lib/mysql/\n*.tmp\n${rig.source}/srv/old-project/\n`);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  assert.ok(
    !existsSync(join(await rig.copyPath(), rig.source, 'srv/old-project')),
    'gone from the current copy (--delete-excluded)',
  );
  assert.ok(existsSync(join(rig.source, 'srv/old-project/readme')), 'still on the host');
  const snapshots = await rig.snapshots();
  assert.equal(snapshots.length, 2);
  await withSnapshotClone(rig.dataset, first, async (path) => {
    assert.ok(existsSync(join(path, rig.source, 'srv/old-project/readme')), 'the first snapshot still has it');
  });
  assert.deepEqual((await lastSummary()).hostSteps?.excludes.malformed, []);
});

test('without the full-system selection (explicit paths not covering the root) the standard list does not apply', async () => {
  setHostSettings(rig, { paths: [join(rig.source, 'var')], selectionRoot: undefined, standardExcludes: undefined });
  try {
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    const summary = await lastSummary();
    assert.equal(summary.hostSteps?.excludes.standard, 0);
    assert.ok(
      existsSync(join(await rig.copyPath(), rig.source, 'var/tmp/build.o')),
      'var/tmp is kept when only /var… was asked for',
    );
  } finally {
    setHostSettings(rig, { paths: undefined, selectionRoot: rig.source });
  }
});

test('a large tree newly excluded is purged without tripping the shrink guard or --max-delete; a real loss of the same size still is held', async () => {
  // 300 files: far beyond --max-delete (max(50, 25 % of the baseline)) and the 30 % shrink threshold.
  for (let index = 0; index < 300; index++) put(`srv/archive/${index}.txt`, `archived ${index}\n`);
  const grown = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(grown.exitCode, 0, grown.stdout + grown.stderr);
  assert.ok(existsSync(join(await rig.copyPath(), rig.source, 'srv/archive/299.txt')));

  writeFileSync(
    excludeFile,
    `${rig.source}/var/lib/mysql/\n*.tmp\n${rig.source}/srv/old-project/\n${rig.source}/srv/archive/\n`,
  );
  const purged = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(purged.exitCode, 0, purged.stdout + purged.stderr);
  assert.doesNotMatch(purged.stdout + purged.stderr, /shrink held|shrank|suspect/);
  const summary = await lastSummary();
  assert.equal(summary.status, 'SUCCESS', JSON.stringify(summary));
  assert.match(summary.snapshot ?? '', /@tidemark-\d{8}T\d{6}Z$/, 'a complete snapshot, not a suspect one');
  assert.ok(!existsSync(join(await rig.copyPath(), rig.source, 'srv/archive')), 'purged from the current copy');
  assert.ok(existsSync(join(rig.source, 'srv/archive/299.txt')), 'still on the host');

  // The next run, same rules: nothing more to purge, a plain success.
  const again = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(again.exitCode, 0, again.stdout + again.stderr);

  // The same 300 files lost on the host (not excluded): the guard still holds the copy back.
  for (let index = 0; index < 300; index++) put(`srv/bulk/${index}.txt`, `bulk ${index}\n`);
  assert.equal((await rig.cli(['start-backup', '--host', rig.hostName, '--wait'])).exitCode, 0);
  rmSync(join(rig.source, 'srv/bulk'), { recursive: true });
  const lost = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.match(lost.stdout + lost.stderr, /^WARNING: .*shrink held: rsync stopped deleting at --max-delete=/m);
  assert.ok(existsSync(join(await rig.copyPath(), rig.source, 'srv/bulk')), 'the copy keeps the lost files');
});
