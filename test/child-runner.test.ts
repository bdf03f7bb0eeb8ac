// One child-process runner (subprocess/runner.ts) for rsync, ssh and zfs send. Issue 20: the rsync
// and ssh children were spawned in several places that had drifted apart (the restore's rsync ran with the
// worker's whole environment and without --secluded-args). Here: nothing else spawns them, and a restore
// pushed to a host runs with the cleaned environment and keeps its target off the remote command line
// even with RSYNC_OLD_ARGS=1 and a secret in the worker's environment. A stand-in `ssh` first in PATH
// records what rsync hands it (rsync's own child: its environment is rsync's), so no sshd is needed.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { restoreFiles, type RestoreRun } from '../activities/restore.js';
import { childArgv, startChild } from '../subprocess/runner.js';
import type { RestorePlan } from '../domain/restore.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const rooms = [
  'activities',
  'client',
  'inventory',
  'pool',
  'worker',
  'web',
  'notify',
  'schedule',
  'fleet',
  'domain',
  'temporal',
  'subprocess',
].filter((room) => existsSync(join(repo, room)));
/** The rsync version check runs `rsync --version` with no host: not a transfer. */
const allowed = new Map([['worker/rsync-version.ts', /execa\(rsync, \['--version'\]/]]);

function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

test('rsync, ssh and zfs send are started only by subprocess/runner.ts', () => {
  const spawnOfChild =
    /\b(execa|spawn|execFile|execFileSync|spawnSync)\(\s*('setpriv'|'rsync'|'ssh'|ssh!?\b|rsync\b|command\b)/;
  const offenders = rooms
    .flatMap(sources)
    .filter((file) => file !== join('subprocess', 'runner.ts'))
    .filter((file) => {
      const text = readFileSync(join(repo, file), 'utf8');
      if (!spawnOfChild.test(text)) return false;
      const allowance = allowed.get(relative('.', file));
      return !(allowance && allowance.test(text) && text.match(new RegExp(spawnOfChild, 'g'))!.length === 1);
    });
  assert.deepEqual(offenders, []);
});

test('rsync always gets --secluded-args; ssh and zfs their arguments as given', () => {
  assert.deepEqual(childArgv('rsync', ['-a', 'x', 'y']), ['--secluded-args', '-a', 'x', 'y']);
  assert.deepEqual(childArgv('rsync', ['--secluded-args', '-a']), ['--secluded-args', '-a']);
  assert.deepEqual(childArgv('ssh', ['-p', '22', 'h']), ['-p', '22', 'h']);
});

test('a timeout stops the whole process group and says so', async () => {
  const run = startChild('ssh', ['-o', 'ProxyCommand=sleep 30', '-F', '/dev/null', 'nowhere.invalid'], {
    timeoutMs: 500,
  });
  const result = await run.result;
  assert.equal(run.timedOut(), true);
  assert.notEqual(result.exitCode, 0);
});

test('restore --to-host: rsync and its ssh get the cleaned environment; RSYNC_OLD_ARGS=1 changes nothing', async () => {
  const dir = mkdtempSync('/tmp/tidemark-child-runner-');
  const bin = join(dir, 'bin');
  const record = join(dir, 'ssh-record');
  mkdirSync(bin);
  // The stand-in ssh: writes its arguments (one a line) and environment, then fails like a lost host.
  writeFileSync(
    join(bin, 'ssh'),
    `#!/bin/sh\n{ for arg in "$@"; do printf 'arg %s\\n' "$arg"; done; env | sed 's/^/env /'; } > ${record}\nexit 255\n`,
  );
  chmodSync(join(bin, 'ssh'), 0o755);
  const root = join(dir, 'snapshot');
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'motd'), 'hello\n');
  const target = '/var/lib/tidemark/restore/x;touch /tmp/pwned/';
  const plan: RestorePlan = {
    host: 'vpn',
    server: 'b1',
    dataset: 'tank/vpn',
    snapshot: 'tidemark-20261207T000000Z',
    paths: ['/etc/motd'],
    target: {
      kind: 'host',
      host: 'vpn',
      dir: target,
      restoreRoot: '/var/lib/tidemark/restore',
      remote: { address: '127.0.0.1', port: 22, user: 'root', sudo: false },
      ssh: { identityFile: '/dev/null', knownHostsFile: '/dev/null', hostKeyAlias: 'target' },
    },
    dryRun: false,
    ioTimeoutSeconds: 30,
    heartbeatTimeoutMs: 60_000,
  };
  const run: RestoreRun = {
    workflowId: 'w',
    runId: 'r',
    heartbeat: () => undefined,
    log: () => undefined,
    signal: new AbortController().signal,
    runIsClosed: async () => true,
  };
  const saved = { ...process.env };
  Object.assign(process.env, {
    PATH: `${bin}:${process.env.PATH}`,
    RSYNC_OLD_ARGS: '1',
    RSYNC_PROTECT_ARGS: '0',
    BACKUP_API_TOKEN: 'secret-token-value',
  });
  try {
    await assert.rejects(restoreFiles(plan, { root }, run), /rsync restoring tank\/vpn@tidemark-20261207T000000Z/);
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
  const lines = readFileSync(record, 'utf8').split('\n');
  const env = lines.filter((line) => line.startsWith('env ')).map((line) => line.slice(4));
  const args = lines.filter((line) => line.startsWith('arg ')).map((line) => line.slice(4));
  assert.ok(
    env.some((line) => line.startsWith('PATH=')),
    'the environment was recorded',
  );
  for (const name of ['RSYNC_OLD_ARGS', 'RSYNC_PROTECT_ARGS', 'BACKUP_API_TOKEN'])
    assert.ok(!env.some((line) => line.startsWith(`${name}=`)), `${name} reached rsync's ssh`);
  assert.ok(!env.some((line) => line.includes('secret-token-value')), 'no secret value reached the child');
  // --secluded-args: the remote command is "rsync --server -s ... ." with no path; the target travels inside
  // rsync's protocol, so the host's shell never sees ";touch /tmp/pwned".
  const remote = args.slice(args.indexOf('127.0.0.1') + 1).join(' ');
  assert.match(remote, /^rsync --server -s\S*$/, args.join(' | '));
  assert.ok(!args.some((arg) => arg.includes('pwned') || arg.includes('/var/lib/tidemark')), args.join(' | '));
});
