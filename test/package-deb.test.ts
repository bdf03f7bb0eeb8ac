// The Debian package as an operator gets it: scripts/build-deb.sh builds tidemark_<version>_<arch>.deb,
// lintian finds nothing to report, and `apt install ./tidemark_*.deb` on a fresh Debian 12 root (chroot)
// gives a working tidemark: --version, config check of the shipped inventory, systemd-analyze verify of
// the installed unit, the production tree exactly as npm-shrinkwrap.json pins it; reinstalling keeps an
// edited /etc/tidemark/tidemark.yaml. (test/package.test.ts covers the npm tarball.)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { freshDebianRoot, hostNodejsDeb, type DebianRoot } from './helpers/debian-root.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const work = mkdtempSync(join(tmpdir(), 'tidemark-deb-'));
let deb: string;
let lintian: Promise<{ exitCode: number; output: string }>;
let root: DebianRoot;

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

before(async () => {
  const started = Date.now();
  // The build (CPU) and the root (mostly disk and network) at the same time.
  const building = execa('bash', [join(repo, 'scripts/build-deb.sh'), '--no-build', '--out', work]).then((result) => {
    console.log(`build-deb.sh: ${seconds(started)}`);
    return result.stdout.trim().split('\n').pop()!;
  });
  const rootDir = join(work, 'root');
  await execa('mkdir', [rootDir]);
  const [built, debianRoot, nodejs] = await Promise.all([building, freshDebianRoot(rootDir), hostNodejsDeb()]);
  deb = built;
  root = debianRoot;
  console.log(`the .deb and a fresh root: ${seconds(started)}`);
  lintian = execa('lintian', ['--fail-on', 'error,warning', deb], { reject: false, all: true }).then((result) => ({
    exitCode: result.exitCode ?? -1,
    output: result.all,
  }));
  const installing = Date.now();
  await root.aptInstall([nodejs, deb]);
  console.log(`apt install in the root: ${seconds(installing)}`);
});

// The root and the .deb: about 600 MB per run.
after(() => rmSync(work, { recursive: true, force: true }));

test('lintian reports no error and no warning (accepted ones are overridden, with reasons, in the package)', async () => {
  const result = await lintian;
  const findings = result.output.split('\n').filter((line) => /^[EW]: /.test(line));
  assert.deepEqual(findings, []);
  assert.equal(result.exitCode, 0, result.output);
});

test('the package: its name, dependencies, conffile and files', async () => {
  assert.equal(deb, join(work, `tidemark_${version}_${(await execa('dpkg', ['--print-architecture'])).stdout}.deb`));
  const field = async (name: string) => (await execa('dpkg-deb', ['-f', deb, name])).stdout;
  assert.match(await field('Depends'), /nodejs \(>= 20\), rsync, openssh-client, zfsutils-linux \| zfs-fuse$/);
  assert.equal(
    (await root.run(['dpkg-query', '-W', '-f=${Conffiles}', 'tidemark'])).stdout.trim().split(' ')[0],
    '/etc/tidemark/tidemark.yaml',
  );
  for (const file of [
    '/usr/bin/tidemark',
    '/lib/systemd/system/tidemark-worker@.service',
    '/usr/share/tidemark/tidemark-ssh-filter',
    '/usr/share/tidemark/install-temporal-cli',
    '/usr/lib/tidemark/npm-shrinkwrap.json',
    '/usr/share/doc/tidemark/copyright',
    '/usr/share/man/man1/tidemark.1.gz',
  ])
    assert.ok(existsSync(join(root.path, file)), `${file} is installed`);
  assert.equal(
    readFileSync(join(root.path, 'lib/systemd/system/tidemark-worker@.service'), 'utf8'),
    readFileSync(join(repo, 'deploy/systemd/tidemark-worker@.service'), 'utf8'),
  );
  // One page per verb, from the CLI's own help: an option of start-backup appears in its page.
  const page = await execa('zcat', [join(root.path, 'usr/share/man/man1/tidemark-start-backup.1.gz')]);
  assert.match(page.stdout, /^\.TH TIDEMARK-START-BACKUP 1 /);
  assert.match(page.stdout, /\\-\\-allow\\-shrink/);
  assert.ok(existsSync(join(root.path, 'usr/share/man/man1/tidemark-config-check.1.gz')));
});

test('the production tree under /usr/lib/tidemark is the one npm-shrinkwrap.json pins, without dev dependencies', () => {
  const lib = join(root.path, 'usr/lib/tidemark');
  const lock = JSON.parse(readFileSync(join(repo, 'npm-shrinkwrap.json'), 'utf8')) as {
    packages: Record<string, { version?: string; dev?: boolean; optional?: boolean }>;
  };
  const production = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && !entry.dev);
  let installed = 0;
  for (const [path, entry] of production) {
    const manifest = join(lib, path, 'package.json');
    // Optional packages of other platforms (@swc/core-darwin-arm64...) are not installed here.
    if (!existsSync(manifest) && entry.optional) continue;
    assert.equal((JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version, entry.version, path);
    installed++;
  }
  assert.ok(installed > 100, `${installed} production packages`);
  for (const [path, entry] of Object.entries(lock.packages))
    if (entry.dev) assert.ok(!existsSync(join(lib, path)), `dev dependency ${path} is not shipped`);
});

test('installed on a fresh Debian 12: tidemark --version, config check of the shipped inventory, the unit verifies', async () => {
  assert.equal((await root.run(['tidemark', '--version'])).stdout, version);
  // No --config: the default /etc/tidemark/tidemark.yaml, as shipped.
  const check = await root.run(['tidemark', 'config', 'check'], { reject: false });
  assert.equal(check.exitCode, 0, check.all);
  assert.match(check.stdout, /^\/etc\/tidemark\/tidemark\.yaml: valid\n/);
  const verify = await root.run(['systemd-analyze', 'verify', 'tidemark-worker@backup-1.service'], { reject: false });
  assert.deepEqual({ exitCode: verify.exitCode, output: verify.all }, { exitCode: 0, output: '' });
  // host-setup names the filter it ships; its one copy is under /usr/share/tidemark.
  const setup = await root.run(['tidemark', 'host-setup', '--host', 'web-1']);
  assert.match(setup.stdout, /shipped in the package at \/usr\/lib\/tidemark\/deploy\/host\/tidemark-ssh-filter\b/);
  assert.equal(
    readlinkSync(join(root.path, 'usr/lib/tidemark/deploy/host/tidemark-ssh-filter')),
    '../../../../share/tidemark/tidemark-ssh-filter',
  );
  assert.equal(
    (await root.run(['test', '-x', '/usr/share/tidemark/tidemark-ssh-filter'], { reject: false })).exitCode,
    0,
  );
});

test('installing the package again keeps an edited /etc/tidemark/tidemark.yaml, and tidemark reads the edit', async () => {
  const inventory = join(root.path, 'etc/tidemark/tidemark.yaml');
  const edited = readFileSync(inventory, 'utf8').replace('  backup-1: {', '  backup-east: {');
  assert.notEqual(edited, readFileSync(inventory, 'utf8'));
  writeFileSync(inventory, edited);
  await root.aptInstall([deb], ['--reinstall']);
  assert.equal(readFileSync(inventory, 'utf8'), edited);
  const check = await root.run(['tidemark', 'config', 'check']);
  assert.match(check.stdout, /^ {2}backup-east: dataset tank\/backup/m);
});
