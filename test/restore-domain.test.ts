// Which snapshot a restore reads, which paths it accepts, the live-system guard and the rsync command line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isLiveSystemDir,
  pickSnapshot,
  restoreInputProblems,
  restoreRsyncArgs,
  type RestoreInput,
  type RestorePlan,
} from '../domain/restore.js';

const names = [
  'tidemark-20261101T020000Z',
  'tidemark-20261102T020000Z',
  'tidemark-20261103T020000Z-partial',
  'autosnap_2026-11-03',
  'tidemark-20261104T020000Z-suspect',
];

test('latest is the newest complete snapshot: partial, suspect and foreign ones are skipped', () => {
  assert.deepEqual(pickSnapshot(names, {}), { name: 'tidemark-20261102T020000Z' });
  assert.deepEqual(pickSnapshot(names, { snapshot: 'latest' }), { name: 'tidemark-20261102T020000Z' });
});

test('--at picks the newest complete snapshot taken at or before that time', () => {
  assert.deepEqual(pickSnapshot(names, { at: '2026-11-02T02:00:00Z' }), { name: 'tidemark-20261102T020000Z' });
  assert.deepEqual(pickSnapshot(names, { at: '2026-11-02T01:59:59Z' }), { name: 'tidemark-20261101T020000Z' });
  const none = pickSnapshot(names, { at: '2026-10-01T00:00:00Z' });
  assert.ok('problem' in none && /--at: no complete snapshot .* 2026-10-01T00:00:00.000Z/.test(none.problem));
});

test('a named snapshot is used as named (also a partial one); an unknown name is refused naming the option', () => {
  assert.deepEqual(pickSnapshot(names, { snapshot: 'tidemark-20261103T020000Z-partial' }), {
    name: 'tidemark-20261103T020000Z-partial',
  });
  const missing = pickSnapshot(names, { snapshot: 'tidemark-20991103T020000Z' });
  assert.ok(
    'problem' in missing && missing.problem.startsWith('--snapshot: "tidemark-20991103T020000Z" does not exist'),
  );
  const empty = pickSnapshot([], {});
  assert.ok('problem' in empty && /no complete snapshot.*has no snapshots/.test(empty.problem));
});

const base: RestoreInput = { host: 'h', server: 's', paths: [], to: { kind: 'host', host: 'h' } };

test('paths must be absolute and plain; --at must be a time; --at and --snapshot exclude each other', () => {
  assert.deepEqual(restoreInputProblems({ ...base, paths: ['/etc/nginx', '/var/lib/my db'] }), []);
  const problems = restoreInputProblems({
    ...base,
    paths: ['etc/nginx', '/etc/../root'],
    at: 'yesterday',
    snapshot: 'tidemark-20261101T020000Z',
  });
  assert.equal(problems.length, 4);
  assert.match(problems[0]!, /^--path: "etc\/nginx" is not absolute/);
  assert.match(problems[1]!, /^--path: "\/etc\/..\/root" contains/);
  assert.match(problems[2]!, /^--at: "yesterday" is not a time/);
  assert.match(problems[3]!, /^--at and --snapshot/);
});

test('writing over the live system needs --yes-overwrite-live-system; any other directory does not', () => {
  // "/tmp/.." is "/" too: a target with "." or ".." parts is refused outright (the worker checks again after realpath).
  for (const dir of ['/./', '/tmp/..']) {
    assert.match(
      restoreInputProblems({ ...base, to: { kind: 'local', dir }, overwriteLiveSystem: true }).join(),
      /"\." or "\.\."/,
    );
  }
  for (const dir of ['/', '//']) {
    assert.ok(isLiveSystemDir(dir), dir);
    assert.match(
      restoreInputProblems({ ...base, to: { kind: 'host', host: 'h', dir } }).join(),
      /--target-dir \/: this writes over the live system; add --yes-overwrite-live-system/,
    );
    assert.match(
      restoreInputProblems({ ...base, to: { kind: 'local', dir } }).join(),
      /--to \/: this writes over the live system/,
    );
    assert.deepEqual(
      restoreInputProblems({ ...base, to: { kind: 'host', host: 'h', dir }, overwriteLiveSystem: true }),
      [],
    );
    // --dry-run writes nothing: looking at what a restore over / would change needs no confirmation.
    assert.deepEqual(restoreInputProblems({ ...base, to: { kind: 'host', host: 'h', dir }, dryRun: true }), []);
    assert.deepEqual(restoreInputProblems({ ...base, to: { kind: 'local', dir }, dryRun: true }), []);
  }
  assert.deepEqual(restoreInputProblems({ ...base, to: { kind: 'host', host: 'h', dir: '/srv/restore' } }), []);
  assert.match(
    restoreInputProblems({ ...base, to: { kind: 'local', dir: 'relative/dir' } }).join(),
    /--to: "relative\/dir" is not an absolute directory/,
  );
});

const plan: RestorePlan = {
  host: 'web',
  server: 'b1',
  dataset: 'tank/b/web',
  snapshot: 'tidemark-20261101T020000Z',
  paths: [],
  target: { kind: 'local', dir: '/srv/out/' },
  dryRun: false,
  ioTimeoutSeconds: 600,
  heartbeatTimeoutMs: 60_000,
};

test('rsync keeps the backup fidelity, never deletes, and keeps full paths under the target with /./', () => {
  const args = restoreRsyncArgs(plan, '/tank/b/web-restore-x/');
  for (const flag of ['--archive', '--hard-links', '--acls', '--xattrs', '--numeric-ids', '--sparse', '--relative'])
    assert.ok(args.includes(flag), flag);
  assert.ok(!args.some((arg) => arg.startsWith('--delete')));
  assert.deepEqual(args.slice(-3), ['--', '/tank/b/web-restore-x/./', '/srv/out/']);

  const subset = restoreRsyncArgs(
    { ...plan, paths: ['/etc/nginx/', '/-odd name'], dryRun: true, bandwidthLimit: '100' },
    '/v',
  );
  assert.deepEqual(subset.slice(-4), ['--', '/v/./etc/nginx', '/v/./-odd name', '/srv/out/']);
  assert.ok(subset.includes('--dry-run') && subset.includes('--itemize-changes') && subset.includes('--bwlimit=100'));
  // --mkpath would create the target's parents even in a dry run.
  assert.ok(args.includes('--mkpath') && !subset.includes('--mkpath'));
});

/** A push to host db's restore root: `dir` and the remote as given. */
const hostTarget = (dir: string, remote: { address: string; port: number; user: string; sudo: boolean }) =>
  ({
    kind: 'host',
    host: 'db',
    dir,
    restoreRoot: '/var/tmp/tidemark-restore',
    remote,
    ssh: { identityFile: '/k', knownHostsFile: '/kh', hostKeyAlias: 'db' },
  }) as const;

test('a push goes over the inventory ssh settings to user@host:dir, with sudo rsync when the host needs it', () => {
  const args = restoreRsyncArgs(
    {
      ...plan,
      target: hostTarget('/var/tmp/tidemark-restore/x/', { address: '::1', port: 2222, user: 'backup', sudo: true }),
    },
    '/v',
  );
  assert.equal(args.at(-1), 'backup@[::1]:/var/tmp/tidemark-restore/x/');
  assert.ok(args.includes('--rsync-path=sudo rsync'));
  const rsh = args.find((arg) => arg.startsWith('--rsh='))!;
  assert.match(
    rsh,
    /-p 2222 -i \/k .*StrictHostKeyChecking=yes .*UserKnownHostsFile=\/kh .*HostKeyAlias=db .*ControlMaster=no/,
  );
});

test('a fresh host target gets the top-level entries for a whole host, also when asked as --path /, so it stays 0700', () => {
  const fresh: RestorePlan = {
    ...plan,
    target: {
      ...hostTarget('/var/tmp/tidemark-restore/tidemark-20261101T020000Z-0a1b2c3d/', {
        address: '192.0.2.5',
        port: 22,
        user: 'root',
        sudo: false,
      }),
      fresh: 'tidemark-20261101T020000Z-0a1b2c3d',
    },
  };
  const sources = (args: string[]) => args.slice(args.indexOf('--') + 1, -1);
  assert.deepEqual(sources(restoreRsyncArgs(fresh, '/v', ['etc', 'srv'])), ['/v/./etc', '/v/./srv']);
  for (const paths of [['/'], ['//'], ['/etc', '/']])
    assert.deepEqual(
      sources(restoreRsyncArgs({ ...fresh, paths }, '/v', ['etc', 'srv'])),
      ['/v/./etc', '/v/./srv'],
      paths.join(),
    );
  // Without a usable listing (a name that is not UTF-8) the root itself would be sent and give the target its mode.
  assert.throws(() => restoreRsyncArgs(fresh, '/v', undefined), /not valid UTF-8.*--target-dir/);
  assert.throws(() => restoreRsyncArgs(fresh, '/v', []), /holds nothing to restore/);
});
