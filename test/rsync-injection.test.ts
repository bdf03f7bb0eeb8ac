// A source path full of shell syntax (";", "$(...)", backquotes) reaches the host's rsync as a name, never
// as commands for the host's shell: with RSYNC_OLD_ARGS=1 in the worker's environment or without it.
// The inventory refuses such paths, so the plan is built here and rsync runs exactly as transferFiles
// runs it (setpriv, rsyncArgs), against a real sshd. The first test shows the attack works on the old
// command line, so the others can fail.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { rsyncEnvironment } from '../subprocess/environment.js';
import { createLoopbackHost, type LoopbackHost } from '../devenv/sshd.js';
import type { BackupPlan } from '../domain/backup.js';
import { rsyncArgs } from '../domain/rsync-args.js';
import { adoptAddressKeys } from '../subprocess/known-hosts.js';

const dir = mkdtempSync('/tmp/tidemark-injection-');
const marker = `/tmp/pwned-${randomBytes(6).toString('hex')}`;
const markers = [`${marker}-semicolon`, `${marker}-subst`, `${marker}-backquote`];
const hostilePath = `${dir}/src/x;touch ${markers[0]};y$(touch ${markers[1]})\`touch ${markers[2]}\``;
let host: LoopbackHost;
let plan: BackupPlan;

before(async () => {
  mkdirSync(dirname(hostilePath), { recursive: true });
  writeFileSync(hostilePath, 'kept as a file name\n');
  host = await createLoopbackHost(join(dir, 'ssh'), `127.0.${(process.pid % 200) + 20}.251`);
  await host.start();
  plan = {
    host: 'demo-host',
    server: 'b1',
    dataset: 'unused/demo-host',
    source: { address: host.address, port: host.port, user: 'root', sudo: false },
    paths: [hostilePath],
    excludes: [],
    ssh: { identityFile: host.identityFile, knownHostsFile: host.knownHostsFile, hostKeyAlias: 'demo-host' },
    transfer: { ioTimeoutSeconds: 30, heartbeatTimeoutMs: 10_000, attempts: 1, retryIntervalMs: 1_000 },
  };
  // What the run's dataset step does before its first ssh: the address entry copied under the name.
  await adoptAddressKeys({
    knownHostsFile: host.knownHostsFile,
    alias: 'demo-host',
    address: host.address,
    port: host.port,
  });
});
after(async () => {
  await host?.stop();
  removeMarkers();
  rmSync(dir, { recursive: true, force: true });
});

/** rsync as transferFiles starts it, into a fresh destination; resolves with its exit code and destination. */
async function runRsync(
  args: (destination: string) => string[],
  env: Record<string, string | undefined>,
): Promise<{ exitCode: number; stderr: string; destination: string }> {
  const destination = mkdtempSync(join(dir, 'copy-'));
  const result = await execa('setpriv', ['--pdeathsig', 'SIGKILL', '--', 'rsync', ...args(destination)], {
    reject: false,
    stdin: 'ignore',
    env,
    extendEnv: false,
    timeout: 60_000,
  });
  return { exitCode: result.exitCode ?? -1, stderr: String(result.stderr), destination };
}

const created = () => markers.filter((file) => existsSync(file));
const removeMarkers = () => markers.forEach((file) => rmSync(file, { force: true }));
const withOldArgs = { ...process.env, RSYNC_OLD_ARGS: '1' };

test('without --secluded-args and with RSYNC_OLD_ARGS=1, the path runs its commands on the host (the attack is real)', async () => {
  const run = await runRsync(
    (destination) => rsyncArgs(plan, destination).filter((arg) => arg !== '--secluded-args'),
    withOldArgs,
  );
  // The host's shell split the path at ";" and ran the rest: rsync itself only saw ".../src/x".
  assert.notEqual(run.exitCode, 0, run.stderr);
  assert.deepEqual(created(), markers, 'every form of shell syntax ran a command');
  removeMarkers();
});

for (const [name, env] of [
  ['RSYNC_OLD_ARGS=1 passed straight through', withOldArgs],
  ['the environment rsyncEnvironment() gives it (RSYNC_OLD_ARGS=1 removed)', rsyncEnvironment(withOldArgs)],
  ['no RSYNC_OLD_ARGS at all', rsyncEnvironment(process.env)],
] as const) {
  test(`with rsyncArgs as it is, ${name}: nothing runs on the host and the file is copied under its own name`, async () => {
    removeMarkers();
    const run = await runRsync((destination) => rsyncArgs(plan, destination), env);
    assert.equal(run.exitCode, 0, run.stderr);
    // A command that had run would have finished with the session that rsync waited for; give it a moment anyway.
    await sleep(500);
    assert.deepEqual(created(), [], 'no command ran');
    assert.equal(readFileSync(join(run.destination, hostilePath), 'utf8'), 'kept as a file name\n');
  });
}
