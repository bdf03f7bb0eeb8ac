// The host's forced-command filter (deploy/host/tidemark-ssh-filter) run with sh: what it lets through
// and what it refuses, with the config `tidemark host-setup` writes and the commands the worker sends.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { execa } from 'execa';
import type { BackupPlan } from '../domain/backup.js';
import { hookCommand, probeCommand } from '../domain/host-steps.js';
import { rsyncArgs } from '../domain/rsync-args.js';
import { restoreRsyncArgs, type RestorePlan } from '../domain/restore.js';
import { verifyCommands } from '../client/verify-remote.js';
import {
  authorizedKeysLine,
  commandTemplates,
  filterConfig,
  hostSetup,
  packagedFilterPath,
} from '../client/host-setup.js';
import { parseInventory } from '../inventory/load.js';

const marker = 'k3j4h5g6f7d8s9a0';
const hourMs = 3_600_000;

interface Fixture {
  dir: string;
  hooks: string;
  veto: string;
  excludeFile: string;
  config: string;
  sudoConfig: string;
}

async function fixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-filter-'));
  const hooks = join(dir, 'hooks');
  const veto = join(dir, 'veto');
  const excludeFile = join(dir, 'exclude.conf');
  await mkdir(hooks);
  await mkdir(veto);
  await writeFile(join(hooks, '10-hello'), '#!/bin/sh\necho hello from the hook\n');
  await chmod(join(hooks, '10-hello'), 0o755);
  await writeFile(excludeFile, '/var/cache\n');
  const steps = {
    hooks: { dir: hooks, timeoutMs: hourMs, onFailure: 'continue' as const },
    veto: { dir: veto, retryIntervalMs: 1, retries: 0 },
    excludeFile,
  };
  const config = join(dir, 'filter.conf');
  const sudoConfig = join(dir, 'filter-sudo.conf');
  await writeFile(config, filterConfig('h', commandTemplates(steps, false), false));
  await writeFile(sudoConfig, filterConfig('h', commandTemplates(steps, true), true));
  return { dir, hooks, veto, excludeFile, config, sudoConfig };
}

const shared = fixture();

/** The filter as sshd would start it: the client's command in SSH_ORIGINAL_COMMAND. */
async function filter(command: string | undefined, config: string, input?: string) {
  const env: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
  if (command !== undefined) env.SSH_ORIGINAL_COMMAND = command;
  // Without input, stdin stays open like an ssh session's (the hook command reads its end as "server gone").
  const stdin = input === undefined ? { stdin: 'pipe' as const } : { input };
  return execa('sh', [packagedFilterPath, config], { env, extendEnv: false, ...stdin, reject: false, timeout: 20_000 });
}

function assertRefused(result: { exitCode?: number; stdout: string; stderr: string }, why: RegExp) {
  assert.equal(result.exitCode, 1, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, /^tidemark-ssh-filter: refused: /);
  assert.match(result.stderr, why);
  assert.equal(result.stdout, '');
}

test('the probe and the hook command as the worker builds them run, with any marker', async () => {
  const f = await shared;
  const probe = await filter(probeCommand(f.veto, f.excludeFile, marker, f.hooks), f.config);
  assert.equal(probe.exitCode, 0, probe.stderr);
  assert.match(probe.stdout, new RegExp(`^${marker} present\\n/var/cache$`, 'm'));
  assert.match(probe.stdout, new RegExp(`${marker} end\\n?$`));
  const otherMarker = 'z'.repeat(64);
  const hook = await filter(hookCommand(f.hooks, hourMs / 1000, false, otherMarker), f.config);
  assert.equal(hook.exitCode, 0, hook.stderr);
  assert.match(hook.stdout, /hello from the hook/);
  assert.match(hook.stdout, new RegExp(`^${otherMarker} exit 0$`, 'm'));
  // With sudo=yes the hook goes through "sudo -n" (root here, so sudo needs no rule).
  const sudoHook = await filter(hookCommand(f.hooks, hourMs / 1000, true, marker), f.sudoConfig);
  assert.equal(sudoHook.exitCode, 0, sudoHook.stderr);
  assert.match(sudoHook.stdout, new RegExp(`^${marker} exit 0$`, 'm'));
});

test('a missing or foreign config refuses everything', async () => {
  const f = await shared;
  const probe = probeCommand(f.veto, f.excludeFile, marker, f.hooks);
  assertRefused(await filter(probe, join(f.dir, 'missing.conf')), /cannot read .*missing\.conf/);
  const foreign = join(f.dir, 'foreign.conf');
  await writeFile(foreign, `${await readFile(f.config, 'utf8')}run=id\n`);
  assertRefused(await filter(probe, foreign), /unknown line in .*foreign\.conf/);
});

test('probe and hook commands that differ in anything but the marker are refused', async () => {
  const f = await shared;
  const probe = probeCommand(f.veto, f.excludeFile, marker, f.hooks);
  const refusals = [
    probeCommand(f.veto, '/etc/other-excludes.conf', marker, f.hooks), // another file to read
    hookCommand(f.hooks, 60, false, marker), // another timeout
    hookCommand(f.hooks, hourMs / 1000, true, marker), // sudo, not configured
    hookCommand('/tmp', hourMs / 1000, false, marker), // another directory
    probe.replaceAll(marker, 'short'), // marker below 8 characters
    probe.replaceAll(marker, 'ABCDEFGHIJ'), // upper case is not a marker
    probe.replaceAll(marker, 'a'.repeat(65)),
    `${probe}; id`,
    `${probe}\nid`,
    `${probe}\n`,
    probe.replace(`m=${marker};`, `m=${marker}$(id);`),
    probe.replace(`m=${marker};`, `m=${marker}\`id\`;`),
    probe.replace('cat /proc/self/mounts', 'cat /etc/shadow'),
  ];
  for (const command of refusals) assertRefused(await filter(command, f.config), /not a Tidemark command/);
  // A secret as the exclude file is not even built (its lines would reach the run's history).
  assert.throws(() => probeCommand(f.veto, '/etc/shadow', marker, f.hooks), /^Error: excludeFile: \/etc\/shadow holds/);
});

test('anything else is refused: other commands, a login shell, rsync writes and injections', async () => {
  const f = await shared;
  assertRefused(await filter(undefined, f.config), /interactive logins are not allowed/);
  assertRefused(await filter('', f.config), /interactive logins are not allowed/);
  for (const command of ['id', 'sh', 'sh -i', '/bin/bash -c id', 'scp -t /tmp', 'rsync --server .', 'internal-sftp']) {
    assertRefused(await filter(command, f.config), /not a Tidemark command/);
  }
  const flags = '-slHogDtpAXrRxSe.iLsfxCIvu';
  for (const [command, why] of [
    [`rsync --server --sender ${flags} --remove-source-files`, /malformed/],
    [`rsync --server --sender ${flags} --delete`, /malformed/],
    [`rsync --server --sender ${flags}; id`, /not a single|malformed/],
    [`rsync --server --sender ${flags}$(id)`, /malformed/],
    [`rsync --server --sender ${flags}\`id\``, /malformed/],
    [`rsync --server --sender ${flags}\nid`, /malformed/],
    ['rsync --server --sender -slHogDtpAXrRxSLe.iLsfxCIvu', /only Tidemark's letters/],
    [`rsync --server --sender ${flags} --log-file=/etc/x`, /only --iconv=CHARSET may follow/],
    [`rsync --server --sender ${flags} --iconv=latin1;id`, /malformed/],
    ['rsync --server --sender -lHogDtpAXrRxSe.iLsfxCIvu', /without --secluded-args/],
    [`sudo rsync --server --sender ${flags}`, /sudo rsync is not enabled/],
    [`sudo sh -c id`, /not a Tidemark command/],
    // A receiver named on the command line (not secluded), or with a sender's letter.
    ['rsync --server -slogDtpre.iLsfxCIvu . /tmp/x', /malformed/],
    ['rsync --server -slHogDtpAXrRxe.iLsfxCIvu', /only Tidemark's letters/],
  ] as const) {
    assertRefused(await filter(command, f.config), why);
  }
  // With --secluded-args the long options come on stdin: writes and foreign options hidden there are refused.
  const stdin = (...args: string[]) => `${args.join('\0')}\0\0`;
  for (const [input, why] of [
    [stdin('rsync', '--remove-source-files', '.', '/etc'), /--remove-source-files is not one Tidemark sends/],
    [stdin('rsync', '--delete', '.', '/etc'), /--delete is not one Tidemark sends/],
    [stdin('rsync', '--log-file=/etc/cron.d/x', '.', '/etc'), /--log-file/],
    [stdin('rsync', '--timeout=60;id', '.', '/etc'), /malformed/],
    [stdin('rsync', '.', '/etc/$(id)'), /has characters outside/],
    [stdin('rsync', '.', '/etc/`id`'), /has characters outside/],
    [stdin('rsync', '.', '/etc\nid'), /has characters outside/],
    [stdin('rsync', '.', '/etc/../root'), /contains \.\./],
    [stdin('rsync', '.', 'relative'), /not an absolute path/],
    [stdin('rsync', '.'), /no path/],
    [stdin('sh', '.', '/etc'), /does not start with "rsync"/],
    ['rsync\0--timeout=600\0.\0/etc', /ended inside/],
  ] as const) {
    assertRefused(await filter(`rsync --server --sender ${flags}`, f.config, input), why);
  }
});

/** Stands in for ssh: drops "-l user host" and runs the filter with the rest as the client's command. */
async function fakeSshIn(f: Fixture): Promise<string> {
  const fakeSsh = join(f.dir, 'fake-ssh');
  await writeFile(
    fakeSsh,
    `#!/bin/sh\nwhile [ "$1" != 127.0.0.1 ]; do shift; done\nshift\nSSH_ORIGINAL_COMMAND="$*" exec sh ${packagedFilterPath} "$FILTER_CONFIG"\n`,
  );
  await chmod(fakeSsh, 0o755);
  return fakeSsh;
}

test("a pull with Tidemark's own rsync arguments goes through the filter, as root and with sudo rsync", async () => {
  const f = await shared;
  const source = join(f.dir, 'source');
  await mkdir(join(source, 'with space'), { recursive: true });
  await writeFile(join(source, 'with space', 'file'), 'content\n');
  const fakeSsh = await fakeSshIn(f);
  for (const [sudo, config] of [
    [false, f.config],
    [true, f.sudoConfig],
  ] as const) {
    const destination = join(f.dir, `copy-${sudo}`);
    await mkdir(destination);
    const plan: BackupPlan = {
      host: 'h',
      server: 'b',
      dataset: 'pool/h',
      source: { address: '127.0.0.1', port: 22, user: 'root', sudo },
      paths: [source, join(source, 'with space')],
      excludes: [],
      ssh: { identityFile: '/dev/null', knownHostsFile: '/dev/null', hostKeyAlias: 'filtered' },
      transfer: {
        ioTimeoutSeconds: 600,
        heartbeatTimeoutMs: 60_000,
        attempts: 1,
        retryIntervalMs: 1_000,
        bandwidthLimit: '10M',
      },
    };
    const args = rsyncArgs(plan, destination).map((arg) => (arg.startsWith('--rsh=') ? `--rsh=${fakeSsh}` : arg));
    const result = await execa('rsync', args, { env: { FILTER_CONFIG: config }, reject: false, input: '' });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(await readFile(join(destination, source, 'with space', 'file'), 'utf8'), 'content\n');
  }
  // The same sudo form is refused by the config without sudo (checked above); a push is refused too.
  const push = await execa(
    'rsync',
    ['-a', '--secluded-args', `--rsh=${fakeSsh}`, `${source}/`, `root@127.0.0.1:${join(f.dir, 'pushed')}/`],
    {
      env: { FILTER_CONFIG: f.config },
      reject: false,
    },
  );
  assert.notEqual(push.exitCode, 0);
  assert.match(push.stderr, /tidemark-ssh-filter: refused: rsync may write only beneath \/var\/lib\/tidemark\/restore/);
});

test('verify commands and a restore push beneath restore-root go through; a push elsewhere, through a symlink or with a second destination is refused', async () => {
  const f = await shared;
  const source = join(f.dir, 'restore-source');
  await mkdir(join(source, 'etc'), { recursive: true });
  await writeFile(join(source, 'etc', 'file with space'), 'restored\n');
  const root = join(f.dir, 'restore-root');
  const config = join(f.dir, 'filter-restore.conf');
  for (const sudo of [false, true]) {
    const steps = {
      hooks: { dir: f.hooks, timeoutMs: hourMs, onFailure: 'continue' as const },
      veto: { dir: f.veto, retryIntervalMs: 1, retries: 0 },
      excludeFile: f.excludeFile,
    };
    await writeFile(config, filterConfig('h', commandTemplates(steps, sudo), sudo, root));
    // verify: the names on stdin, stat and sha256sum as verify sends them.
    const [stat, hash] = verifyCommands(sudo);
    const stated = await filter(stat!, config, `${join(source, 'etc', 'file with space')}\0`);
    assert.equal(stated.exitCode, 0, stated.stderr);
    assert.match(stated.stdout, /^9 \d+ [0-9a-f]+ \S+file with space\0$/);
    const hashed = await filter(hash!, config, `${join(source, 'etc', 'file with space')}\0`);
    assert.equal(hashed.exitCode, 0, hashed.stderr);
    assert.match(hashed.stdout, /^[0-9a-f]{64} {2}\S+file with space\0$/);
    assertRefused(await filter(`${stat!} ; id`, config, ''), /not a Tidemark command/);
    assertRefused(await filter(stat!.replace('stat', 'cat'), config, ''), /not a Tidemark command/);

    // restore --to-host: Tidemark's own push arguments, through a stand-in for ssh.
    const fakeSsh = await fakeSshIn(f);
    const push = async (dir: string, dryRun = false) => {
      const plan: RestorePlan = {
        host: 'h',
        server: 'b',
        dataset: 'pool/h',
        snapshot: 'tidemark-20261201T000000Z',
        paths: ['/etc'],
        target: {
          kind: 'host',
          host: 'h',
          dir,
          restoreRoot: '/var/lib/tidemark/restore',
          remote: { address: '127.0.0.1', port: 22, user: 'root', sudo },
          ssh: { identityFile: '/dev/null', knownHostsFile: '/dev/null', hostKeyAlias: 'filtered' },
        },
        dryRun,
        bandwidthLimit: '10M',
        ioTimeoutSeconds: 600,
        heartbeatTimeoutMs: 60_000,
      };
      const args = restoreRsyncArgs(plan, source).map((arg) => (arg.startsWith('--rsh=') ? `--rsh=${fakeSsh}` : arg));
      return execa('rsync', args, { env: { FILTER_CONFIG: config }, reject: false, input: '' });
    };
    const inside = join(root, `snap-${sudo}`);
    const dry = await push(`${inside}/`, true);
    assert.equal(dry.exitCode, 0, dry.stderr);
    const pushed = await push(`${inside}/`);
    assert.equal(pushed.exitCode, 0, pushed.stderr);
    assert.equal(await readFile(join(inside, 'etc', 'file with space'), 'utf8'), 'restored\n');

    const elsewhere = await push(join(f.dir, 'elsewhere/'));
    assert.notEqual(elsewhere.exitCode, 0);
    assert.match(elsewhere.stderr, /refused: rsync may write only beneath/);
    // A link inside the root (say, restored from a backup) leading out of it.
    await symlink(f.dir, join(root, `link-out-${sudo}`));
    const viaLink = await push(join(root, `link-out-${sudo}`, 'escaped/'));
    assert.match(viaLink.stderr, /refused: rsync may write only beneath/);
    assert.equal(existsSync(join(f.dir, 'escaped')), false);
  }
  const flags = '-slHogDtpAXrRSe.iLsfxCIvu';
  const stdin = (...args: string[]) => `${args.join('\0')}\0\0`;
  for (const [input, why] of [
    [stdin('rsync', '.', join(root, 'a'), join(root, 'b')), /exactly one destination/],
    [stdin('rsync', '--delete', '.', join(root, 'a')), /--delete is not one Tidemark sends/],
    [stdin('rsync', '--inplace', '.', join(root, 'a')), /not one Tidemark sends to a receiver/],
    [stdin('rsync', '.', `${root}-sibling/a`), /may write only beneath/],
    [stdin('rsync', '.', `${root}/../x`), /contains \.\./],
  ] as const) {
    assertRefused(await filter(`rsync --server ${flags}`, config, input), why);
  }
  assertRefused(
    await filter(`rsync --server --sender ${flags}`, config, stdin('rsync', '--mkpath', '.', '/etc')),
    /--mkpath is not one Tidemark sends/,
  );
});

test("host-setup: from= lists the servers' addresses only when every server of the host has one", () => {
  const text = (address: string | undefined) => `
servers:
  b1: { dataset: data, address: 192.0.2.10 }
  b2: { dataset: data${address ? `, address: "${address}"` : ''} }
hosts:
  web: { address: web.example.org, user: backup, sudo: true, hooks: { dir: /etc/backup-scripts/, timeout: 10m } }
`;
  const full = hostSetup(parseInventory(text('2001:db8::/64')), { host: 'web' });
  assert.deepEqual(full.serverAddresses, ['192.0.2.10', '2001:db8::/64']);
  assert.equal(
    authorizedKeysLine('ssh-ed25519 AAAA tidemark\n', full.serverAddresses, full.filterCommand),
    'restrict,from="192.0.2.10,2001:db8::/64",command="/usr/local/lib/tidemark/tidemark-ssh-filter" ssh-ed25519 AAAA tidemark',
  );
  assert.deepEqual(
    full.sudoers.filter((line) => !line.startsWith('#')),
    [
      'backup ALL=(root) NOPASSWD: /usr/bin/rsync --server --sender -*',
      'backup ALL=(root) NOPASSWD: /usr/bin/timeout -k 10 600 run-parts --report /etc/backup-scripts',
      'backup ALL=(root) NOPASSWD: /usr/bin/stat --printf *',
      'backup ALL=(root) NOPASSWD: /usr/bin/sha256sum -z -- *',
      'backup ALL=(root) NOPASSWD: /usr/bin/mkdir -p -- /var/lib/tidemark/restore',
      'backup ALL=(root) NOPASSWD: /usr/bin/mkdir -m 0700 -- /var/lib/tidemark/restore/*',
      'backup ALL=(root) NOPASSWD: /usr/bin/rsync --server -* . /var/lib/tidemark/restore/*',
    ],
  );
  assert.match(full.filterConfig, /^restore-root=\/var\/lib\/tidemark\/restore$/m);
  assert.match(full.filterConfig, /^sudo=yes$/m);
  const partial = hostSetup(parseInventory(text(undefined)), { host: 'web' });
  assert.deepEqual(partial.serverAddresses, []);
  assert.deepEqual(partial.serversWithoutAddress, ['b2']);
  assert.equal(
    authorizedKeysLine('ssh-ed25519 AAAA', [], '/f /c.conf'),
    'restrict,command="/f /c.conf" ssh-ed25519 AAAA',
  );
  assert.throws(
    () => hostSetup(parseInventory(text(undefined)), { host: 'web', configPath: '/etc/x" y' }),
    /--filter-config: expected an absolute path/,
  );
  assert.throws(() => parseInventory(text('backup.example.org')), /address.*expected an IP address or CIDR range/s);
  assert.throws(() => parseInventory(text('10.0.0.0/33')), /expected an IP address or CIDR range/);
});
