// The shipped deployment files, checked by the tools that read them: systemd-analyze verify on the
// worker unit, docker-compose config on the compose file (Docker itself does not run here), sh -n on the
// compose jobs' scripts. Each check is shown to fail on a broken copy, so a pass means something.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const unitPath = join(repo, 'deploy/systemd/tidemark-worker@.service');
const composePath = join(repo, 'docker-compose.yml');

/** systemd-analyze verify of the template as instance "backup-1": exit code and everything it printed. */
async function verifyUnit(unitText: string): Promise<{ exitCode: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-unit-'));
  writeFileSync(join(dir, 'tidemark-worker@.service'), unitText);
  const result = await execa('systemd-analyze', ['verify', join(dir, 'tidemark-worker@backup-1.service')], {
    reject: false,
    all: true,
  });
  return { exitCode: result.exitCode ?? -1, output: result.all ?? '' };
}

test('systemd-analyze verify passes on the worker unit, without a warning', async () => {
  const unit = readFileSync(unitPath, 'utf8');
  assert.deepEqual(await verifyUnit(unit), { exitCode: 0, output: '' });
  // A misspelt value only warns (exit 0): the empty output is what proves the unit clean.
  const broken = await verifyUnit(unit.replace('Restart=on-failure', 'Restart=on-failur'));
  assert.match(broken.output, /Failed to parse service restart specifier/);
  const missingBinary = await verifyUnit(unit.replace('ExecStart=/usr/bin/env ', 'ExecStart=/nonexistent/env '));
  assert.notEqual(missingBinary.exitCode, 0);
});

test('the unit runs the worker for its instance and keeps datasets it mounts visible to the host', () => {
  const unit = readFileSync(unitPath, 'utf8');
  const settings = unit.split('\n').filter((line) => /^[A-Za-z]+=/.test(line));
  assert.ok(settings.includes('ExecStart=/usr/bin/env tidemark worker --server %i'));
  assert.ok(settings.includes('Restart=on-failure'));
  for (const directory of ['ConfigurationDirectory=tidemark', 'StateDirectory=tidemark', 'RuntimeDirectory=tidemark'])
    assert.ok(settings.includes(directory), directory);
  // Any of these gives the service its own mount namespace with slave propagation: a dataset that
  // `zfs create` mounts there would be invisible on the host and lost at the next restart.
  const namespaced = settings.filter((line) =>
    /^(PrivateTmp|PrivateDevices|PrivateMounts|ProtectSystem|ProtectHome|ProtectKernelTunables|ProtectKernelModules|ProtectKernelLogs|ProtectControlGroups|ProtectProc|ReadOnlyPaths|ReadWritePaths|InaccessiblePaths|TemporaryFileSystem|BindPaths|BindReadOnlyPaths|MountFlags|DevicePolicy|DeviceAllow|ProtectClock)=/.test(
      line,
    ),
  );
  assert.deepEqual(namespaced, []);
});

const composeEnv = {
  TEMPORAL_DB_PASSWORD: 'not-a-real-password',
  TIDEMARK_SERVER: 'backup-1',
  TIDEMARK_POOL_MOUNTPOINT: '/tank',
};
const compose = (args: string[], env: Record<string, string>) =>
  execa('docker-compose', ['--project-directory', repo, '-f', composePath, ...args], {
    reject: false,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    extendEnv: false,
    cwd: tmpdir(),
  });

test('docker-compose config accepts the compose file; a missing setting is named', async () => {
  const valid = await compose(['config', '-q'], composeEnv);
  assert.equal(valid.exitCode, 0, valid.stderr);
  const { TIDEMARK_SERVER: _server, ...withoutServer } = composeEnv;
  const missing = await compose(['config', '-q'], withoutServer);
  assert.notEqual(missing.exitCode, 0);
  assert.match(missing.stderr, /set TIDEMARK_SERVER to this backup server's name/);
});

test('the composed services: loopback ports only, a worker on the compose network with ZFS, its config read-only, the pool rshared, state on a volume', async () => {
  const result = await compose(['config'], composeEnv);
  assert.equal(result.exitCode, 0, result.stderr);
  const services = parse(result.stdout).services as Record<string, Record<string, any>>;
  assert.deepEqual(Object.keys(services).sort(), [
    'postgresql',
    'temporal',
    'temporal-schema',
    'temporal-setup',
    'temporal-ui',
    'worker',
  ]);
  const published = Object.entries(services).flatMap(([name, service]) =>
    ((service.ports ?? []) as string[]).map((port) => `${name} ${port}`),
  );
  assert.deepEqual(published, ['temporal 127.0.0.1:7233:7233/tcp', 'temporal-ui 127.0.0.1:8080:8080/tcp']);

  const worker = services.worker!;
  assert.equal(worker.network_mode, undefined);
  assert.deepEqual(worker.command, ['worker', '--server', 'backup-1']);
  const temporalHost = String(worker.environment.TEMPORAL_ADDRESS).split(':')[0]!;
  assert.ok(temporalHost in services, `TEMPORAL_ADDRESS names the service ${temporalHost}`);
  assert.deepEqual(worker.devices, ['/dev/zfs:/dev/zfs']);
  const volumes = worker.volumes as Array<Record<string, any>>;
  assert.deepEqual(
    volumes.find((volume) => volume.target === '/etc/tidemark'),
    { type: 'bind', source: '/etc/tidemark', target: '/etc/tidemark', read_only: true },
  );
  assert.deepEqual(
    volumes.find((volume) => volume.target === '/tank'),
    { type: 'bind', source: '/tank', target: '/tank', bind: { propagation: 'rshared' } },
  );
  assert.deepEqual(
    volumes.find((volume) => volume.target === '/var/lib/tidemark'),
    { type: 'volume', source: 'tidemark-state', target: '/var/lib/tidemark' },
  );
  assert.equal(worker.build.dockerfile, 'deploy/Dockerfile');
});

test('the compose jobs register the namespace and all four search attributes; their scripts parse', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-scripts-'));
  for (const script of ['setup-schema.sh', 'setup-namespace.sh']) {
    const path = join(repo, 'deploy/temporal', script);
    assert.equal((await execa('sh', ['-n', path], { reject: false })).exitCode, 0, script);
    // The syntax check is real: a copy missing its "done" fails it.
    copyFileSync(path, join(dir, script));
    writeFileSync(join(dir, script), readFileSync(path, 'utf8').replace(/\ndone\n/, '\n'));
    assert.notEqual(
      (await execa('sh', ['-n', join(dir, script)], { reject: false })).exitCode,
      0,
      `${script} without "done"`,
    );
  }
  const setup = readFileSync(join(repo, 'deploy/temporal/setup-namespace.sh'), 'utf8');
  const attributes = /for attribute in ([^;]+);/.exec(setup)?.[1]?.split(' ');
  assert.deepEqual(attributes, [
    'TidemarkHost:Keyword',
    'TidemarkServer:Keyword',
    'TidemarkStatus:Keyword',
    'TidemarkBytes:Int',
  ]);
});
