// Pure pieces of the transfer: exit-code meaning, output parsing, the command line, snapshot names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackupPlan } from '../domain/backup.js';
import { parseSnapshotName, snapshotName } from '../domain/names.js';
import {
  closeMasterCommand,
  openMasterCommand,
  rshOption,
  rsyncArgs,
  rsyncFilterInput,
  sshCommand,
} from '../domain/rsync-args.js';
import { classifyRsyncExit } from '../domain/rsync-exit.js';
import { advanceProgress, lastProgress, parseProgressLine, parseStats } from '../domain/rsync-output.js';

test('rsync exit codes: 0/24 complete, 23 partial, network and ssh transient, usage fatal', () => {
  const expected = {
    0: 'complete',
    24: 'complete',
    23: 'partial',
    10: 'transient',
    12: 'transient',
    30: 'transient',
    35: 'transient',
    255: 'transient',
    1: 'fatal',
    2: 'fatal',
    4: 'fatal',
  };
  for (const [code, outcome] of Object.entries(expected))
    assert.equal(classifyRsyncExit(Number(code)), outcome, `exit ${code}`);
});

test('progress2 lines and the --stats block are read', () => {
  assert.deepEqual(parseProgressLine('  1,238,099,968  45%  118.09MB/s    0:00:10 (xfr#3, ir-chk=1009/2031)'), {
    bytes: 1_238_099_968,
    percent: 45,
    rate: '118.09MB/s',
    filesTransferred: 3,
  });
  assert.equal(parseProgressLine('sending incremental file list'), undefined);
  const stats = parseStats(
    'Number of files: 1,234 (reg: 1,000, dir: 234)\nNumber of regular files transferred: 12\nTotal file size: 99,999 bytes\n' +
      'Total transferred file size: 4,567 bytes\nTotal bytes sent: 1,000\nTotal bytes received: 5,678\n',
  );
  assert.deepEqual(stats, {
    filesTotal: 1234,
    filesTransferred: 12,
    bytesTotal: 99_999,
    bytesTransferred: 4567,
    bytesReceived: 5678,
  });
});

test("the last stats block counts: a look-alike printed earlier (a host's text in the output) is ignored", () => {
  const fake =
    'Number of files: 9,999,999\nNumber of regular files transferred: 0\nTotal file size: 1 bytes\n' +
    'Total transferred file size: 0 bytes\nTotal bytes received: 0\n';
  const real =
    'Number of files: 10 (reg: 9, dir: 1)\nNumber of regular files transferred: 2\nTotal file size: 300 bytes\n' +
    'Total transferred file size: 200 bytes\nTotal bytes sent: 50\nTotal bytes received: 400\n';
  assert.deepEqual(parseStats(`${fake}some progress\n\n${real}`), {
    filesTotal: 10,
    filesTransferred: 2,
    bytesTotal: 300,
    bytesTransferred: 200,
    bytesReceived: 400,
  });
});

test('--rsh never carries an argument rsync would split: whitespace or quotes in an ssh value are refused', () => {
  const source = { address: '192.0.2.1', port: 22, user: 'root', sudo: false };
  const withIdentity = (identityFile: string) =>
    sshCommand({ ssh: { identityFile, knownHostsFile: '/k', hostKeyAlias: 'web' }, source });
  // What rsyncArgs and the restore's push pass to rsync: the identity file hiding a ProxyCommand.
  assert.throws(
    () => rshOption(withIdentity('/nonexistent -oProxyCommand=touch\t/tmp/pwned')),
    /holds whitespace or a quote: refused for --rsh/,
  );
  assert.throws(() => rshOption(withIdentity("/k'x")), /refused/);
  assert.throws(() => rshOption(['ssh', '-i', '/a b']), /refused/);
  assert.equal(rshOption(['ssh', '-p', '22']), '--rsh=ssh -p 22');
  assert.match(
    rshOption(withIdentity('/etc/tidemark/id_ed25519')),
    /^--rsh=ssh -F \/dev\/null -p 22 -i \/etc\/tidemark\/id_ed25519 /,
  );
});

test('the command line is an argument array with strict ssh and the full-system flags', () => {
  const plan: BackupPlan = {
    host: 'vpn',
    server: 'b1',
    dataset: 'data/vpn',
    source: { address: '2001:db8::1', port: 2222, user: 'backup', sudo: true },
    paths: ['/', '/srv/with space'],
    excludes: ['/var/cache/apt'],
    ssh: { identityFile: '/etc/tidemark/id_ed25519', knownHostsFile: '/etc/tidemark/known_hosts', hostKeyAlias: 'vpn' },
    transfer: { ioTimeoutSeconds: 600, heartbeatTimeoutMs: 60_000, attempts: 5, retryIntervalMs: 30_000 },
  };
  const args = rsyncArgs(plan, '/data/vpn');
  const fullSystem = ['--archive', '--hard-links', '--acls', '--xattrs', '--numeric-ids', '--sparse'];
  const mirror = ['--delete', '--delete-excluded', '--timeout=600', '--secluded-args', '--exclude-from=-'];
  for (const flag of [...fullSystem, ...mirror, '--rsync-path=sudo rsync']) assert.ok(args.includes(flag), flag);
  // Excludes reach rsync on stdin, not argv.
  assert.equal(rsyncFilterInput(plan), '- /var/cache/apt\n');
  const rsh = args.find((arg) => arg.startsWith('--rsh='))!;
  assert.match(
    rsh,
    /^--rsh=ssh -F \/dev\/null -p 2222 .*BatchMode=yes .*StrictHostKeyChecking=yes .*UserKnownHostsFile=\/etc\/tidemark\/known_hosts .*HostKeyAlias=vpn .*ServerAliveInterval=15/,
  );
  assert.deepEqual(args.slice(-3), ['backup@[2001:db8::1]:/', 'backup@[2001:db8::1]:/srv/with space', '/data/vpn/']);
});

test('ssh reads no config file: -F /dev/null comes first, and only Tidemark options follow', () => {
  const plan = {
    source: { address: 'vpn.example.org', port: 22, user: 'backup', sudo: false },
    ssh: {
      identityFile: '/etc/tidemark/id_ed25519',
      knownHostsFile: '/etc/tidemark/known_hosts',
      hostKeyAlias: 'vpn',
      controlPath: '/run/tidemark/ssh/0123abcd',
    },
  };
  const ssh = sshCommand(plan);
  assert.deepEqual(ssh.slice(0, 3), ['ssh', '-F', '/dev/null']);
  // The rest are (flag, value) pairs Tidemark chose: -p, -i, and -o with its own options.
  const pairs = Array.from(
    { length: (ssh.length - 3) / 2 },
    (_, index) => [ssh[3 + 2 * index]!, ssh[4 + 2 * index]!] as const,
  );
  assert.deepEqual([...new Set(pairs.map(([flag]) => flag))], ['-p', '-i', '-o']);
  const names = pairs.filter(([flag]) => flag === '-o').map(([, option]) => option.split('=')[0]);
  assert.deepEqual(names, [
    'BatchMode',
    'IdentitiesOnly',
    'StrictHostKeyChecking',
    'UserKnownHostsFile',
    'GlobalKnownHostsFile',
    'ConnectTimeout',
    'HostKeyAlias',
    'ServerAliveInterval',
    'ServerAliveCountMax',
    'Compression',
    'Ciphers',
    'ControlMaster',
    'ControlPath',
    'ControlPersist',
    'LogLevel',
  ]);
  assert.deepEqual(closeMasterCommand(plan), [
    'ssh',
    '-F',
    '/dev/null',
    '-o',
    'ControlPath=/run/tidemark/ssh/0123abcd',
    '-O',
    'exit',
    '-p',
    '22',
    '-l',
    'backup',
    '--',
    'vpn.example.org',
  ]);
  assert.equal(
    closeMasterCommand({ ...plan, ssh: { identityFile: 'x', knownHostsFile: 'y', hostKeyAlias: 'vpn' } }),
    undefined,
  );
  // The early login: the run's own ssh options, no session and so no command on the host (-N), backgrounded.
  const open = openMasterCommand(plan)!;
  assert.deepEqual(open.slice(0, -6), sshCommand(plan));
  assert.deepEqual(open.slice(-6), ['-N', '-f', '-l', 'backup', '--', 'vpn.example.org']);
  // The host key is looked up under the host's name, whatever address the name points at today.
  assert.ok(ssh.includes('HostKeyAlias=vpn'));
  assert.equal(
    openMasterCommand({ ...plan, ssh: { identityFile: 'x', knownHostsFile: 'y', hostKeyAlias: 'vpn' } }),
    undefined,
  );
});

test('HostKeyAlias: the host name, refused when known_hosts could read it as a pattern, a port or a marker', () => {
  const source = { address: '192.0.2.1', port: 22, user: 'root', sudo: false };
  const withAlias = (hostKeyAlias: string) =>
    sshCommand({ ssh: { identityFile: '/k', knownHostsFile: '/kh', hostKeyAlias }, source });
  assert.ok(withAlias('vpn.example.org').includes('HostKeyAlias=vpn.example.org'));
  for (const bad of ['', '*', 'a?', '!vpn', 'a,b', '[vpn]:22', '|1|x', '@revoked', 'a b', 'VPN', '-oProxyCommand=x'])
    assert.throws(() => withAlias(bad), /host key name/, bad);
  // The jump host keeps its own address check: the alias is the target's, and %h stays the address.
  const jumped = sshCommand({
    ssh: {
      identityFile: '/k',
      knownHostsFile: '/kh',
      hostKeyAlias: 'vpn',
      jumpHost: { address: '192.0.2.9', port: 22, user: 'jump', knownHostsFile: '/jkh' },
    },
    source,
  });
  const proxy = jumped.find((arg) => arg.startsWith('ProxyCommand='))!;
  assert.doesNotMatch(proxy, /HostKeyAlias/);
  assert.match(proxy, /-W %h:%p/);
});

test('snapshot names encode UTC time and partial state, and only ours parse', () => {
  const at = new Date('2026-11-23T09:19:00.456Z');
  assert.equal(snapshotName(at), 'tidemark-20261123T091900Z');
  assert.equal(snapshotName(at, 'partial'), 'tidemark-20261123T091900Z-partial');
  assert.deepEqual(parseSnapshotName('tidemark-20261123T091900Z-partial'), {
    takenAt: new Date('2026-11-23T09:19:00Z'),
    label: 'partial',
  });
  for (const foreign of [
    'before-upgrade',
    'tidemark-2026',
    'tidemark-20261332T000000Z',
    'planb-202611230919Z',
    'backup-daily-2026-11-23',
  ]) {
    assert.equal(parseSnapshotName(foreign), undefined, foreign);
  }
});

test('the newest complete progress line of a stdout tail wins; a half-written last line does not count', () => {
  const tail =
    '      1,000  10%  1.00MB/s    0:00:01 (xfr#1, to-chk=9/10)\r      5,000  50%  2.00MB/s    0:00:02 (xfr#2, to-chk=5/10)\r     7,0';
  assert.deepEqual(lastProgress(tail), { bytes: 5_000, percent: 50, rate: '2.00MB/s', filesTransferred: 2 });
  assert.equal(lastProgress('sending incremental file list\n'), undefined);
});

test('the file count of the copy never goes back when a progress line carries no "(xfr#N"', () => {
  const before = { bytes: 4_000, percent: 33, rate: '1.93MB/s', filesTransferred: 1 };
  const tail = '      4,200  34%  1.98MB/s    0:00:02  \r';
  assert.deepEqual(advanceProgress(before, tail), { bytes: 4_200, percent: 34, rate: '1.98MB/s', filesTransferred: 1 });
  assert.equal(advanceProgress(before, 'sending incremental file list\n'), before);
});
