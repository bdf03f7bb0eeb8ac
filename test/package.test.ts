// The installable package: `npm pack` on a clean copy of the sources builds on its own (prepack), ships
// only run-time code, the workflow bundle and the systemd unit, and installs globally into an empty
// prefix with a working `tidemark`: --version, config check and a worker started from another folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { waitFor } from '../devenv/process.js';
import { testServices } from './helpers/rig.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const work = mkdtempSync(join(tmpdir(), 'tidemark-package-'));
const prefix = join(work, 'prefix');
const tidemark = join(prefix, 'bin', 'tidemark');
let tarball: string;
let shipped: string[];

before(async () => {
  // A clean checkout: the tracked and new (not ignored) files, no dist/; node_modules shared.
  const source = join(work, 'source');
  const files = (await execa('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo })).stdout
    .split('\0')
    .filter(Boolean);
  await execa('mkdir', ['-p', source]);
  await execa('tar', ['-c', '--null', '-T', '-', '-f', '-'], {
    cwd: repo,
    input: files.join('\0'),
    encoding: 'buffer',
  }).then((archive) => execa('tar', ['-x', '-f', '-'], { cwd: source, input: archive.stdout }));
  symlinkSync(join(repo, 'node_modules'), join(source, 'node_modules'));

  let started = Date.now();
  const pack = await execa('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: source });
  tarball = join(work, pack.stdout.trim().split('\n').pop()!);
  console.log(`npm pack (with the prepack build): ${((Date.now() - started) / 1000).toFixed(0)} s`);
  shipped = (await execa('tar', ['-t', '-z', '-f', tarball])).stdout
    .split('\n')
    .map((line) => line.replace(/^package\//, ''));

  started = Date.now();
  // The dependencies' tarballs are in npm's cache after setup; only missing metadata goes to the registry.
  await execa(
    'npm',
    [
      'install',
      '--global',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      tarball,
    ],
    { cwd: work },
  );
  console.log(`npm install -g of the tarball: ${((Date.now() - started) / 1000).toFixed(0)} s`);
});

test('the tarball holds the built code, the workflow bundle and the systemd unit, and nothing for development', () => {
  for (const file of [
    'dist/client/cli.js',
    'dist/worker/run-worker.js',
    'dist/workflow-bundle.js',
    'deploy/systemd/tidemark-worker@.service',
    'deploy/host/tidemark-ssh-filter',
    'package.json',
    'README.md',
    'LICENSE',
    'npm-shrinkwrap.json',
  ]) {
    assert.ok(shipped.includes(file), `${file} is shipped`);
  }
  const development = shipped.filter((file) =>
    /^(dist\/(test|bench|devenv)\/|test\/|bench\/|devenv\/|scripts\/|results\/)|\.ts$|\.map$/.test(file),
  );
  assert.deepEqual(development, []);
});

test('the installed tidemark prints its version, from package.json', async () => {
  const result = await execa(tidemark, ['--version'], { cwd: work });
  assert.equal(result.stdout, version);
});

test('the installed host-setup points at the shipped ssh filter, an executable file of the install', async () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'tidemark-hostsetup-'));
  const inventory = join(elsewhere, 'tidemark.yaml');
  writeFileSync(
    inventory,
    stringify({
      servers: { b1: { dataset: 'data', address: '192.0.2.10' } },
      hosts: { 'web-1': { address: 'web-1.example.org' } },
    }),
  );
  const result = await execa(tidemark, ['--config', inventory, 'host-setup', '--host', 'web-1'], {
    cwd: elsewhere,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    extendEnv: false,
  });
  const filter = /shipped in the package at (\S+)/.exec(result.stdout)?.[1];
  assert.ok(filter?.startsWith(prefix), result.stdout);
  accessSync(filter!, constants.X_OK);
  assert.match(
    result.stdout,
    /^restrict,from="192\.0\.2\.10",command="\/usr\/local\/lib\/tidemark\/tidemark-ssh-filter" <contents of \/etc\/tidemark\/id_ed25519\.pub>$/m,
  );
});

test('config check and a worker run from another folder, with nothing of the checkout', async () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'tidemark-elsewhere-'));
  const inventory = join(elsewhere, 'tidemark.yaml');
  const server = `srv-package-${process.pid}`;
  writeFileSync(
    inventory,
    stringify({
      temporal: { address: testServices().temporal },
      servers: {
        [server]: {
          dataset: `${testServices().pool}/package-${process.pid}`,
          stateFile: join(elsewhere, 'state.json'),
        },
      },
      hosts: { 'web-1': { address: 'web-1.example.org', paths: ['/etc'] } },
    }),
  );
  // Only PATH (for node) and an empty HOME: no TIDEMARK_* or TEMPORAL_* from the test run.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: elsewhere };
  const check = await execa(tidemark, ['--config', inventory, 'config', 'check'], {
    cwd: elsewhere,
    env,
    extendEnv: false,
    reject: false,
  });
  assert.equal(check.exitCode, 0, check.stderr);
  assert.match(check.stdout, new RegExp(`^${inventory.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: valid\n`));
  assert.match(check.stdout, /web-1: root@web-1\.example\.org:22 paths \/etc/);

  const worker = spawn(tidemark, ['--config', inventory, 'worker', '--server', server], {
    cwd: elsewhere,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
  try {
    await Promise.race([
      waitFor(`the installed worker for ${server}`, async () => output.includes('polling'), 60_000),
      exited.then((code) => Promise.reject(new Error(`the worker exited ${code}: ${output}`))),
    ]);
    assert.match(output, new RegExp(`tidemark worker for ${server}: polling tidemark-control, `));
  } finally {
    worker.kill('SIGTERM');
    await exited;
  }
});
