// Pure pieces of the host steps: mount-table selection, the exclude file, merged excludes and the
// allow-list as rsync rules, the remote probe and hook commands (run here through a local sh).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import {
  filterRules,
  includeRules,
  mergeExcludes,
  parseExcludeFile,
  standardExcludes,
  underRoot,
} from '../domain/excludes.js';
import {
  describeHookFailure,
  hookCommand,
  parseHookOutput,
  parseProbeOutput,
  probeCommand,
} from '../domain/host-steps.js';
import { parseMountTable, selectMounts, type MountEntry } from '../domain/mounts.js';
import { rsyncArgs, rsyncFilterInput } from '../domain/rsync-args.js';
import type { BackupPlan } from '../domain/backup.js';
import { parseInventory } from '../inventory/load.js';
import { resolveHost } from '../inventory/resolve.js';

// A container's table (pseudo filesystems listed before "/"), a separate /home, /boot and /boot/efi, a
// bind mount, NFS, sshfs, a USB disk under /run, an over-mounted directory and a name with a space.
const table = `proc /proc proc rw,relatime 0 0
sysfs /sys sysfs rw,relatime 0 0
devtmpfs /dev devtmpfs rw,relatime,size=12334432k 0 0
/dev/vda2 / ext4 rw,relatime 0 0
/dev/vda1 /boot ext4 rw,relatime 0 0
/dev/vda15 /boot/efi vfat rw,relatime 0 0
tmpfs /run tmpfs rw,nosuid 0 0
/dev/sdb1 /run/media/usb ext4 rw 0 0
/dev/mapper/vg-home /home xfs rw 0 0
/dev/vda2 /var/lib/docker/containers/x/hosts ext4 rw 0 0
nas:/export /mnt/nas nfs4 rw 0 0
me@box:/ /mnt/box fuse.sshfs rw 0 0
/dev/sdc1 /srv/old ext4 rw 0 0
tmpfs /srv/old tmpfs rw 0 0
/dev/sdd1 /srv/my\\040data btrfs rw 0 0
/dev/sdd1 /srv/my\\040data/sub btrfs rw,subvol=/sub 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw 0 0
tank/data /tank zfs rw 0 0
overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0
`;

test('mount table: octal escapes decoded, fields kept', () => {
  const entries = parseMountTable(table);
  assert.equal(entries.length, 19);
  assert.deepEqual(
    entries.find((entry) => entry.target.startsWith('/srv/my')),
    { source: '/dev/sdd1', target: '/srv/my data', fstype: 'btrfs', options: 'rw' },
  );
});

test('selection: every local filesystem, never pseudo, network (unless asked), hidden, bind or under a skipped mount', () => {
  const entries = parseMountTable(table);
  const selection = selectMounts(entries, { root: '/', includeNetworkMounts: false, extraTypes: [] });
  assert.deepEqual(selection.paths, ['/', '/boot', '/boot/efi', '/home', '/srv/my data', '/srv/my data/sub', '/tank']);
  const reasons = Object.fromEntries(selection.skipped.map((skip) => [skip.target, skip.reason]));
  assert.equal(reasons['/proc'], 'pseudo');
  assert.equal(reasons['/run'], 'pseudo');
  assert.equal(reasons['/run/media/usb'], 'under a skipped mount');
  assert.equal(reasons['/mnt/nas'], 'network');
  assert.equal(reasons['/mnt/box'], 'network');
  assert.deepEqual(
    selection.skipped
      .filter((skip) => skip.target === '/srv/old')
      .map((skip) => `${skip.fstype} ${skip.reason}`)
      .sort(),
    ['ext4 hidden', 'tmpfs pseudo'],
    'the tmpfs mounted over /srv/old is what is visible',
  );
  assert.equal(reasons['/var/lib/docker/containers/x/hosts'], 'same filesystem');
  assert.equal(reasons['/var/lib/docker/overlay2/abc/merged'], 'pseudo');

  const withNetwork = selectMounts(entries, { root: '/', includeNetworkMounts: true, extraTypes: [] });
  assert.ok(withNetwork.paths.includes('/mnt/nas') && withNetwork.paths.includes('/mnt/box'));
  // A bind of the root device on a directory of another filesystem: rsync would not reach it from /srv.
  const crossBind = selectMounts(
    [
      ...entries,
      { source: '/dev/sdx1', target: '/data', fstype: 'xfs', options: '' },
      { source: '/dev/vda2', target: '/data/www', fstype: 'ext4', options: '' },
    ],
    { root: '/', includeNetworkMounts: false, extraTypes: [] },
  );
  assert.ok(crossBind.paths.includes('/data') && crossBind.paths.includes('/data/www'));
  const withFuse = selectMounts(
    [...entries, { source: 'pool', target: '/pool', fstype: 'fuse.mergerfs', options: '' }],
    { root: '/', includeNetworkMounts: false, extraTypes: ['fuse.mergerfs'] },
  );
  assert.ok(withFuse.paths.includes('/pool'));
});

test('selection under a root that is not a mount point: the root itself, then mounts under it', () => {
  const entries: MountEntry[] = [
    { source: '/dev/vda', target: '/', fstype: 'ext4', options: '' },
    { source: '/dev/loop3', target: '/tmp/rig/src/srv/data', fstype: 'ext4', options: '' },
    { source: 'tmpfs', target: '/tmp/rig/src/mnt/scratch', fstype: 'tmpfs', options: '' },
    { source: '/dev/loop4', target: '/tmp/other', fstype: 'ext4', options: '' },
  ];
  const selection = selectMounts(entries, { root: '/tmp/rig/src/', includeNetworkMounts: false, extraTypes: [] });
  assert.deepEqual(selection.paths, ['/tmp/rig/src', '/tmp/rig/src/srv/data']);
  assert.deepEqual(selection.skipped, [{ target: '/tmp/rig/src/mnt/scratch', fstype: 'tmpfs', reason: 'pseudo' }]);
  // A root on a pseudo filesystem is not copied, local filesystems under it are.
  const onTmpfs = selectMounts([{ source: 'tmpfs', target: '/tmp', fstype: 'tmpfs', options: '' }, ...entries], {
    root: '/tmp/rig',
    includeNetworkMounts: false,
    extraTypes: [],
  });
  assert.deepEqual(onTmpfs.paths, ['/tmp/rig/src/srv/data']);
});

test('exclude file: comments and blanks ignored, malformed lines reported with their line numbers', () => {
  const parsed = parseExcludeFile(
    [
      '# SOWN style',
      '',
      '/var/lib/mysql/',
      '- /srv/cache',
      '*.tmp',
      '.cache/',
      'var/spool',
      '+ /keep',
      '/',
      '*',
      '  /opt/big  ',
      '!',
      '/ok/*/x',
    ].join('\n'),
  );
  assert.deepEqual(parsed.patterns, ['/var/lib/mysql/', '/srv/cache', '*.tmp', '.cache/', '/opt/big', '/ok/*/x']);
  assert.deepEqual(
    parsed.malformed.map((problem) => [problem.line, problem.text]),
    [
      [7, 'var/spool'],
      [8, '+ /keep'],
      [9, '/'],
      [10, '*'],
      [12, '!'],
    ],
  );
  assert.match(parsed.malformed[0]!.reason, /relative path.*"\/var\/spool"/);
});

test('merged excludes: standard (under the root, lost+found per filesystem), inventory, host; deduplicated, counted', () => {
  const merged = mergeExcludes({
    standard: true,
    root: '/',
    sourcePaths: ['/', '/home'],
    inventory: ['/var/cache/apt', '/swap.img'],
    host: ['/srv/x', '/var/cache/apt'],
  });
  assert.equal(merged.patterns[0], '/proc/*');
  assert.ok(
    merged.patterns.includes('/var/log/journal/') && merged.patterns.includes('/swap.img'),
    'SOWN standard excludes',
  );
  assert.ok(merged.patterns.includes('/lost+found/') && merged.patterns.includes('/home/lost+found/'));
  assert.deepEqual(merged.counts, { standard: standardExcludes.length + 2, inventory: 1, host: 1 });
  assert.deepEqual(merged.patterns.slice(-2), ['/var/cache/apt', '/srv/x']);

  const rooted = mergeExcludes({
    standard: true,
    root: '/tmp/rig/src',
    sourcePaths: ['/tmp/rig/src'],
    inventory: [],
    host: [],
  });
  assert.ok(
    rooted.patterns.includes('/tmp/rig/src/var/log/journal/') && rooted.patterns.includes('/tmp/rig/src/proc/*'),
  );
  assert.equal(
    mergeExcludes({ standard: false, root: '/', sourcePaths: ['/'], inventory: ['/a'], host: [] }).patterns.length,
    1,
  );
  // A root with a wildcard character is escaped where the pattern has wildcards.
  assert.equal(underRoot('/srv/a[1]', '/tmp/*'), '/srv/a\\[1]/tmp/*');
});

test('allow-list rules: parents as bare directories, items with their contents, then "- *"', () => {
  assert.deepEqual(includeRules('/', ['etc', 'var/backups', 'var/lib/dpkg/status*']), [
    '+ /etc',
    '+ /etc/***',
    '+ /var/',
    '+ /var/backups',
    '+ /var/backups/***',
    '+ /var/lib/',
    '+ /var/lib/dpkg/',
    '+ /var/lib/dpkg/status*',
    '+ /var/lib/dpkg/status*/***',
    '- *',
  ]);
  assert.deepEqual(includeRules('/r/s', ['etc']), ['+ /r/', '+ /r/s/', '+ /r/s/etc', '+ /r/s/etc/***', '- *']);
  assert.deepEqual(filterRules(['/x'], { root: '/', items: ['etc'] }), ['- /x', '+ /etc', '+ /etc/***', '- *']);
});

test('rsync reads the rules from stdin: excludes win inside included trees, the rest is left out', async () => {
  const dir = mkdtempSync('/tmp/tidemark-rules-');
  const src = join(dir, 'src');
  for (const file of [
    'etc/app.conf',
    'etc/secret/key',
    'var/backups/db.gz',
    'var/log/syslog',
    'home/u/f',
    'var/lib/dpkg/status',
    'var/lib/dpkg/info/x',
  ]) {
    mkdirSync(join(src, file, '..'), { recursive: true });
    writeFileSync(join(src, file), file);
  }
  const plan = {
    excludes: [`${src}/etc/secret/`],
    include: { root: src, items: ['etc', 'var/backups', 'var/lib/dpkg/status*'] },
  } as Pick<BackupPlan, 'excludes' | 'include'>;
  mkdirSync(join(dir, 'dst'));
  await execa('rsync', ['-a', '--relative', '--exclude-from=-', src, `${dir}/dst/`], { input: rsyncFilterInput(plan) });
  const copy = join(dir, 'dst', src);
  const listing = (await execa('find', ['.', '-type', 'f'], { cwd: copy })).stdout.split('\n').sort();
  assert.deepEqual(listing, ['./etc/app.conf', './var/backups/db.gz', './var/lib/dpkg/status']);
});

test('the rsync command line takes the rules on stdin only when there are some', () => {
  const plan = {
    host: 'vpn',
    server: 'b1',
    dataset: 'data/vpn',
    source: { address: 'vpn', port: 22, user: 'root', sudo: false },
    paths: ['/'],
    excludes: [],
    ssh: { identityFile: '/k', knownHostsFile: '/kh', hostKeyAlias: 'vpn' },
    transfer: { ioTimeoutSeconds: 600, heartbeatTimeoutMs: 60_000, attempts: 5, retryIntervalMs: 30_000 },
  } satisfies BackupPlan;
  assert.ok(!rsyncArgs(plan, '/d').includes('--exclude-from=-'));
  assert.equal(rsyncFilterInput(plan), '');
  assert.ok(rsyncArgs({ ...plan, excludes: ['/x'] }, '/d').includes('--exclude-from=-'));
  assert.equal(rsyncFilterInput({ ...plan, excludes: ['/x', '/y z'] }), '- /x\n- /y z\n');
});

test('inventory: hooks, veto, selection and excludes settings with defaults; unsafe remote paths rejected', () => {
  const servers = 'servers: { b1: { dataset: data, hooks: { after: /usr/local/bin/after } } }\n';
  const inventory = parseInventory(
    `${servers}defaults: { hooks: { timeout: 5m } }\nhosts: { a: { address: a, hooks: { onFailure: abort } }, b: { address: b, paths: ["/srv"], include: ["etc"], selectionRoot: /srv, veto: { retries: 2 } } }`,
  );
  const a = resolveHost(inventory, 'a').hostSteps;
  assert.deepEqual(a.hooks, { dir: '/etc/backup-scripts/', timeoutMs: 300_000, onFailure: 'abort' });
  assert.deepEqual(a.veto, { dir: '/var/lib/backup/do-not-run.d/', retryIntervalMs: 3_600_000, retries: 24 });
  assert.deepEqual(a.selection, { mode: 'mounts', root: '/', includeNetworkMounts: false, extraTypes: [] });
  assert.equal(a.excludeFile, '/etc/backup-exclude.conf');
  const b = resolveHost(inventory, 'b');
  assert.equal(b.hostSteps.selection.mode, 'explicit');
  assert.deepEqual(b.include, { root: '/srv', items: ['etc'] });
  for (const [yaml, message] of [
    ['hooks: { dir: "/etc/x;rm -rf /" }', /hosts\.a\.hooks\.dir: expected an absolute path of letters, digits/],
    ['excludeFile: "/etc/$(id)"', /hosts\.a\.excludeFile: expected an absolute path/],
    ['veto: { dir: "/var/../x" }', /hosts\.a\.veto\.dir:/],
    ['hooks: { onFailure: stop }', /hosts\.a\.hooks\.onFailure: expected "continue" or "abort"/],
    ['include: ["/etc"]', /hosts\.a\.include\.0: expected a path relative to the selection root/],
    ['include: ["var/../etc"]', /hosts\.a\.include\.0: an include path may not contain/],
  ] as const) {
    assert.throws(
      () => parseInventory(`${servers}hosts: { a: { address: a, ${yaml} } }`),
      (error: Error) => {
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

test('probe command: veto entries, mount table and exclude file in marked sections (through a local sh)', async () => {
  const dir = mkdtempSync('/tmp/tidemark-probe-');
  mkdirSync(join(dir, 'veto'));
  writeFileSync(join(dir, 'veto', 'maintenance'), '');
  writeFileSync(join(dir, 'exclude.conf'), '# c\n/var/x\n');
  const marker = 'abcdef0123456789';
  mkdirSync(join(dir, 'hooks'));
  const run = await execa('sh', [
    '-c',
    probeCommand(join(dir, 'veto'), join(dir, 'exclude.conf'), marker, join(dir, 'hooks')),
  ]);
  const output = parseProbeOutput(run.stdout, marker)!;
  assert.deepEqual(output.veto, ['maintenance']);
  assert.equal(output.hooksAbsent, false);
  assert.match(output.mounts, / \/ /);
  assert.deepEqual(output.excludes, { present: true, unreadable: false, text: '# c\n/var/x\n' });
  const none = parseProbeOutput(
    (await execa('sh', ['-c', probeCommand(join(dir, 'nope'), join(dir, 'nope.conf'), marker, join(dir, 'no-hooks'))]))
      .stdout,
    marker,
  )!;
  assert.deepEqual([none.veto, none.excludes.present, none.hooksAbsent], [[], false, true]);
  assert.throws(() => probeCommand("/x'; reboot", '/y', marker), /unsafe remote path/);
});

/** A temporary hook directory and a writer of executable scripts in it. */
function hookFolder() {
  const dir = mkdtempSync('/tmp/tidemark-hooks-');
  const hooks = join(dir, 'hooks');
  mkdirSync(hooks);
  const script = (name: string, body: string) => {
    writeFileSync(join(hooks, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(hooks, name), 0o755);
  };
  return { dir, hooks, script };
}

test('hook command: run-parts order, failures named with their output, absent directory, timeout', async () => {
  const { dir, hooks, script } = hookFolder();
  script('10-first', `echo first >> ${dir}/order`);
  script('20-db', `echo second >> ${dir}/order; echo "dumping"; echo "pg_dump: connection refused" >&2; exit 3`);
  script('30-last', `echo third >> ${dir}/order`);
  writeFileSync(join(hooks, 'not-executable'), 'exit 1');
  writeFileSync(join(hooks, 'skipped.dpkg-old'), '#!/bin/sh\nexit 1');
  chmodSync(join(hooks, 'skipped.dpkg-old'), 0o755);
  const marker = 'feedface00112233';
  const run = async (path: string, seconds: number) => {
    const result = await execa('sh', ['-c', hookCommand(path, seconds, false, marker)], {
      reject: false,
      stdin: 'pipe',
    });
    return parseHookOutput({ stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? -1 }, marker)!;
  };
  const failed = await run(hooks, 30);
  assert.equal(failed.status, 'failed');
  assert.deepEqual(failed.failed, [`${hooks}/20-db (exit 3)`]);
  assert.deepEqual(
    (await execa('cat', [join(dir, 'order')])).stdout.split('\n'),
    ['first', 'second', 'third'],
    'every script runs, in order',
  );
  const message = describeHookFailure({ ...failed, durationMs: 0 }, hooks, 30_000);
  assert.match(
    message,
    /hook \/tmp\/tidemark-hooks-\w+\/hooks\/20-db \(exit 3\) failed; output: .*dumping \| pg_dump: connection refused/,
  );

  assert.equal((await run(join(dir, 'missing'), 30)).status, 'absent');
  for (const name of readdirSync(hooks)) chmodSync(join(hooks, name), 0o644);
  assert.equal((await run(hooks, 30)).status, 'passed');

  script('40-slow', 'echo "waiting for the lock"; sleep 60');
  const started = Date.now();
  const slow = await run(hooks, 1);
  assert.equal(slow.status, 'timeout');
  assert.deepEqual(slow.failed, [`${hooks}/40-slow (running when the time ran out)`]);
  // Ended by the 1 s timeout, not by the script: well before its 60 s sleep (no tighter bound: a busy machine).
  assert.ok(Date.now() - started < 45_000);
  assert.equal(
    (await execa('pgrep', ['-f', `${hooks}/40-slow`], { reject: false })).stdout,
    '',
    'the script was killed',
  );
});

test('hook outcome: only a line that is exactly "<marker> exit N" counts; look-alike lines from the hooks are output', async () => {
  const { hooks, script } = hookFolder();
  const marker = 'cafe0123beef4567';
  // A database dump hook that reports its tool's exit status the way the marker line looks.
  script('10-dump', 'echo "mysqldump exit 0"; echo "abc exit 3"; echo "cafe0123beef4567x exit 9"');
  const run = async () => {
    const result = await execa('sh', ['-c', hookCommand(hooks, 30, false, marker)], { reject: false, stdin: 'pipe' });
    return parseHookOutput({ stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? -1 }, marker);
  };
  const passed = await run();
  assert.equal(passed?.status, 'passed', 'a look-alike line before the marker is not the outcome');
  assert.equal(passed?.exitCode, 0);
  assert.ok(passed?.outputTail.includes('mysqldump exit 0'), "the hook's own lines stay in the output");
  assert.ok(passed?.outputTail.includes('abc exit 3'));

  script('20-fail', 'echo "mysqldump exit 0"; echo "abc exit 3"; exit 4');
  const failed = await run();
  assert.equal(failed?.status, 'failed');
  assert.notEqual(failed?.exitCode, 0, 'run-parts exit status, not the look-alike line');
  assert.deepEqual(failed?.failed, [`${hooks}/20-fail (exit 4)`]);

  // Without a marker line at all the outcome is unknown, whatever the hooks printed.
  assert.equal(
    parseHookOutput({ stdout: 'mysqldump exit 0\nabc exit 3\n', stderr: '', exitCode: 0 }, marker),
    undefined,
  );
  // The last marker line wins; anything after it that only looks like one is ignored.
  assert.equal(
    parseHookOutput(
      { stdout: `${marker} exit 0\n${marker} exit 2\n${marker} exit 2x\nabc exit 0\n`, stderr: '', exitCode: 2 },
      marker,
    )?.exitCode,
    2,
  );
});

/** Ext4 mounts under /srv with binds, tmpfs and hidden duplicates mixed in, as a hostile host could send. */
function hostileMountTable(count: number): string {
  const lines = ['/dev/sda1 / ext4 rw 0 0'];
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    if (kind === 0) lines.push(`/dev/sdb${i} /srv/d${i} ext4 rw 0 0`);
    else if (kind === 1) lines.push(`/dev/sda1 /srv/d${i - 1}/bind ext4 rw 0 0`);
    else if (kind === 2) lines.push(`tmpfs /run/t${i} tmpfs rw 0 0`);
    else lines.push(`/dev/sdc${i} /srv/d${i - 3} ext4 rw 0 0`);
  }
  return lines.join('\n');
}

/** Parses and selects a table; the CPU time it took (this process's, so a busy machine barely moves it). */
function parseAndSelect(table: string) {
  const before = process.cpuUsage();
  const entries = parseMountTable(table);
  const selection = selectMounts(entries, { root: '/', includeNetworkMounts: false, extraTypes: [] });
  const used = process.cpuUsage(before);
  return { entries, selection, cpuMs: (used.user + used.system) / 1000 };
}

test("a host's 200,000-line mount table is parsed and selected in linear time (a quadratic pass would take hours)", () => {
  const large = parseAndSelect(hostileMountTable(200_000));
  assert.equal(large.entries.length, 200_001);
  assert.equal(large.selection.paths.length, 1 + 50_000 + 50_000, 'the root, each /srv/dN and its bind under it');
  assert.ok(large.selection.skipped.some((skip) => skip.reason === 'hidden'));
  // Growth, not a time limit: ten times the lines cost about ten times the CPU when the pass is linear and a
  // hundred times when it is quadratic (8,000 lines took 4.4 s with the old quadratic pass). The smallest of
  // three small runs, so one slow run cannot make the ratio look good or bad.
  const small = Math.min(...[1, 2, 3].map(() => parseAndSelect(hostileMountTable(20_000)).cpuMs));
  const growth = large.cpuMs / small;
  console.log(
    `mount table: 200,001 lines ${Math.round(large.cpuMs)} CPU-ms, 20,001 lines ${Math.round(small)}: ×${growth.toFixed(1)}`,
  );
  assert.ok(growth < 40, `10× the lines cost ×${growth.toFixed(1)} the CPU: the pass is not linear`);
  const capped = parseMountTable(`${'/dev/x /a ext4 rw 0 0\n'.repeat(300_000)}`);
  assert.equal(capped.length, 250_000, 'lines past the cap are not read');
});

test('probe output: sections sliced between marker lines, empty ones empty, text before the first ignored', () => {
  const m = 'abcdef0123456789';
  const stdout = [
    'motd noise',
    `${m} veto`,
    `${m} mounts`,
    '/dev/sda1 / ext4 rw 0 0',
    `not-${m} end`,
    `${m} excludes`,
    `${m} present`,
    '/var/x',
    '',
    `${m} end`,
  ].join('\n');
  const output = parseProbeOutput(stdout, m)!;
  assert.deepEqual(output.veto, []);
  assert.equal(output.mounts, `/dev/sda1 / ext4 rw 0 0\nnot-${m} end`);
  assert.deepEqual(output.excludes, { present: true, unreadable: false, text: '/var/x\n' });
  assert.equal(parseProbeOutput(stdout.replace(`\n${m} end`, ''), m), undefined, 'no end: not finished');
});
