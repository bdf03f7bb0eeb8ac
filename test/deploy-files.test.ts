// The shipped deployment files, checked by the tools that read them: systemd-analyze verify on the
// worker unit, docker-compose config on the compose file (Docker itself does not run here), sh -n on the
// compose jobs' scripts. Each check is shown to fail on a broken copy, so a pass means something.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
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

test('the composed services: Temporal reachable from other servers with mutual TLS only, the UI on loopback, a worker on the compose network with ZFS, its config read-only, the pool rshared, state on a volume', async () => {
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
  assert.deepEqual(published, ['temporal 0.0.0.0:7233:7233/tcp', 'temporal-ui 127.0.0.1:8080:8080/tcp']);
  // Every client of the published port must show a certificate from the CA; each service mounts the
  // certificates read-only and names the files make-certs.sh writes.
  const temporal = services.temporal!;
  assert.equal(temporal.environment.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH, 'true');
  const tlsFiles = new Set([
    'ca.pem',
    'server.pem',
    'server.key',
    'client-admin.pem',
    'client-admin.key',
    'client-backup-1.pem',
    'client-backup-1.key',
  ]);
  for (const [name, service] of Object.entries(services)) {
    const paths = Object.entries(service.environment ?? {}).filter(
      ([key]) => key.startsWith('TEMPORAL_TLS_') && /(CERT|KEY|CA)(_PATH)?$/.test(key),
    );
    if (['postgresql', 'temporal-schema'].includes(name)) {
      assert.deepEqual(paths, [], name);
      continue;
    }
    assert.ok(paths.length >= 3, `${name} has its TLS files`);
    for (const [key, value] of paths) {
      assert.match(String(value), /^\/etc\/temporal-tls\//, `${name} ${key}`);
      assert.ok(
        tlsFiles.has(String(value).split('/').pop()!),
        `${name} ${key}=${value} is a file make-certs.sh writes`,
      );
    }
    assert.deepEqual(
      (service.volumes as Array<Record<string, any>>).find((volume) => volume.target === '/etc/temporal-tls'),
      { type: 'bind', source: '/etc/tidemark/temporal-tls', target: '/etc/temporal-tls', read_only: true },
      name,
    );
  }

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

/** A TLS handshake with `server` (client certificate required): resolves with the error, or undefined. */
async function handshake(
  server: { ca: string; cert: string; key: string },
  client: { ca: string; cert?: string; key?: string; servername: string },
): Promise<string | undefined> {
  const read = (file?: string) => (file ? readFileSync(file) : undefined);
  const listener = createTlsServer({
    ca: read(server.ca),
    cert: read(server.cert),
    key: read(server.key),
    requestCert: true,
    rejectUnauthorized: true,
  });
  listener.on('secureConnection', (socket) => socket.end('ok'));
  listener.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  try {
    return await new Promise<string | undefined>((resolve) => {
      const socket = connectTls({
        host: '127.0.0.1',
        port,
        servername: client.servername,
        ca: read(client.ca),
        cert: read(client.cert),
        key: read(client.key),
      });
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('end', () => resolve(data === 'ok' ? undefined : `closed after "${data}"`));
      socket.on('error', (error) => resolve(error.message));
    });
  } finally {
    listener.close();
  }
}

test('make-certs.sh: a CA, a server certificate for the name the backup servers dial and one client certificate each, for mutual TLS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-certs-'));
  const script = join(repo, 'deploy/temporal/make-certs.sh');
  await execa('sh', [script, dir, 'temporal.example.org', 'backup-1', 'backup-2']);
  const file = (name: string) => join(dir, name);
  for (const key of ['ca.key', 'server.key', 'client-admin.key', 'client-backup-1.key', 'client-backup-2.key'])
    assert.equal(statSync(file(key)).mode & 0o077, 0, `${key} is private`);
  const server = { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
  const backup1 = { ca: file('ca.pem'), cert: file('client-backup-1.pem'), key: file('client-backup-1.key') };
  assert.equal(await handshake(server, { ...backup1, servername: 'temporal.example.org' }), undefined);
  // The compose services dial the server by its service name.
  assert.equal(await handshake(server, { ...backup1, servername: 'temporal' }), undefined);
  // Refused: another name, no client certificate, a client certificate from another CA.
  assert.match((await handshake(server, { ...backup1, servername: 'other.example.org' })) ?? '', /altnames/i);
  assert.notEqual(await handshake(server, { ca: file('ca.pem'), servername: 'temporal.example.org' }), undefined);
  const other = mkdtempSync(join(tmpdir(), 'tidemark-certs-other-'));
  await execa('sh', [script, other, 'temporal.example.org', 'backup-1']);
  assert.notEqual(
    await handshake(server, {
      ca: file('ca.pem'),
      cert: join(other, 'client-backup-1.pem'),
      key: join(other, 'client-backup-1.key'),
      servername: 'temporal.example.org',
    }),
    undefined,
  );
  // Run again with a new server: the CA and the existing certificates stay, the new one is added.
  const ca = readFileSync(file('ca.pem'), 'utf8');
  await execa('sh', [script, dir, 'temporal.example.org', 'backup-1', 'backup-3']);
  assert.equal(readFileSync(file('ca.pem'), 'utf8'), ca);
  await execa('openssl', ['verify', '-CAfile', file('ca.pem'), file('client-backup-3.pem')]);
});
