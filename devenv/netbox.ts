// A real NetBox for the tests (scripts/setup-netbox.sh installs it in a Debian 13 root of its own, run
// with chroot): PostgreSQL and Redis of our own on loopback ports, NetBox under gunicorn, an admin user and
// an API token made through NetBox's own API.
//
// NetBox's migrations take ~11 min, so they ran once per NetBox version and their result is committed as a
// database dump (devenv/netbox-schema/); a fresh machine loads it into a template database cluster under
// .cache/netbox/ and checks it against NetBox's own migration state (`migrate --check`). Each start copies
// the template into a fresh folder, so every test run starts from an empty, migrated NetBox.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { request } from 'undici';
import { cacheDir, projectRoot } from './paths.js';
import { freePort } from '../worker/free-port.js';
import { waitFor } from './process.js';

/** The Debian 13 root NetBox runs in, and its venv as seen inside that root. */
const netboxRoot = join(cacheDir, 'netbox-root');
const venv = '/opt/netbox-venv';
/** By path: the NetBox processes get PATH of the root, where chroot is not. */
const chroot = '/usr/sbin/chroot';
export const pgBin = '/usr/lib/postgresql/15/bin';
/** PostgreSQL refuses to run as root; its files belong to the Debian package's user. */
const pgUser = 'postgres';

export interface DevNetbox {
  /** http://127.0.0.1:<port> */
  url: string;
  /** A v2 API token (`nbt_<key>.<secret>`) of the admin user. */
  token: string;
  /** NetBox's own version string. */
  version: string;
  /** A JSON request as the admin; throws naming the method, path and NetBox's answer on a non-2xx. */
  api<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export interface NetboxOptions {
  /** NetBox's MAX_PAGE_SIZE: the most objects one page holds whatever `limit` asks. Default 1000. */
  maxPageSize?: number;
}

/** Whether scripts/setup-netbox.sh has installed NetBox here. */
export function netboxInstalled(): boolean {
  return (
    existsSync(join(netboxRoot, venv, 'bin', 'netbox')) &&
    existsSync(join(pgBin, 'postgres')) &&
    existsSync('/usr/bin/redis-server')
  );
}

/** Installs NetBox and makes its template in the background at the lowest CPU priority (the suite
 * runner starts this first and starts the files that need NetBox when it has ended, so the minutes it
 * takes overlap the other tests); `statusFile` gets `{"exitCode": N}` when it ends, the output goes to `logFile`. */
export function prepareNetboxInBackground(logFile: string, statusFile: string): { stop(): void } {
  rmSync(statusFile, { force: true });
  mkdirSync(join(cacheDir, 'netbox'), { recursive: true });
  const log = openSync(logFile, 'w');
  const steps = [
    ['bash', join(projectRoot, 'scripts', 'setup-netbox.sh')],
    [process.execPath, join(projectRoot, 'dist', 'devenv', 'prepare-netbox.js')],
  ];
  // Each step leads its own process group, so stopping it also stops the PostgreSQL it started.
  let current: ChildProcess | undefined;
  let stopped = false;
  const run = (index: number) => {
    const [command, ...args] = steps[index]!;
    current = spawn('nice', ['-n', '19', command!, ...args], { stdio: ['ignore', log, log], detached: true });
    current.once('exit', (code) => {
      if (code === 0 && index + 1 < steps.length && !stopped) return run(index + 1);
      writeFileSync(statusFile, JSON.stringify({ exitCode: code ?? 1 }));
    });
  };
  run(0);
  return {
    stop() {
      stopped = true;
      if (current?.pid && current.exitCode === null) {
        try {
          process.kill(-current.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    },
  };
}

/** Waits for prepareNetboxInBackground's status file; throws with the log's end when it failed. */
export async function awaitNetboxPreparation(logFile: string, statusFile: string, timeoutMs: number): Promise<void> {
  await waitFor('NetBox installed and migrated in the background', async () => existsSync(statusFile), timeoutMs);
  const { exitCode } = JSON.parse(readFileSync(statusFile, 'utf8')) as { exitCode: number };
  if (exitCode !== 0) throw new Error(`preparing NetBox failed (exit ${exitCode}):\n${tail(logFile)}`);
}

/** Makes the migrated template now (scripts/setup.sh), so no test waits for migrations. */
export async function prepareNetbox(): Promise<void> {
  if (!netboxInstalled()) throw new Error('NetBox is not installed: run bash scripts/setup-netbox.sh');
  await ensureTemplate(await netboxVersion());
}

export async function startNetbox(options: NetboxOptions = {}): Promise<DevNetbox> {
  if (!netboxInstalled())
    throw new Error('NetBox is not installed: run bash scripts/setup-netbox.sh (scripts/setup.sh runs it)');
  const version = await netboxVersion();
  const template = await ensureTemplate(version);
  const dir = mkdtempSync('/tmp/tidemark-netbox-');
  // PostgreSQL (another user) must reach its data folder inside.
  chmodSync(dir, 0o711);
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pgData = join(dir, 'pg');
    await execa('cp', ['-a', template, pgData]);
    stops.push(await startPostgres(pgData, dir));
    const redis = await startRedis(dir);
    stops.push(redis.stop);
    const root = writeConfiguration(dir, {
      pgPort: pgPortOf(pgData),
      redisPort: redis.port,
      maxPageSize: options.maxPageSize ?? 1000,
    });
    stops.push(async () => rmSync(join(netboxRoot, root), { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const gunicorn = spawnLogged(
      chroot,
      [
        netboxRoot,
        join(venv, 'bin', 'gunicorn'),
        '--bind',
        `127.0.0.1:${port}`,
        '--workers',
        '2',
        '--timeout',
        '120',
        'netbox.wsgi',
      ],
      join(dir, 'gunicorn.log'),
      netboxEnv(root),
    );
    stops.push(() => stopChild(gunicorn));
    // Any answer will do: with LOGIN_REQUIRED even /api/status/ wants a token.
    await waitFor(
      'NetBox answering',
      async () => {
        const status = await request(`${url}/api/status/`).then(
          async (response) => (await response.body.dump(), response.statusCode),
          () => 0,
        );
        return status > 0 && status < 500;
      },
      120_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${tail(join(dir, 'gunicorn.log'))}`);
    });
    const token = await provisionToken(url);
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await request(`${url}${path}`, {
        method: method as 'GET',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.body.text();
      if (response.statusCode >= 300)
        throw new Error(`NetBox ${method} ${path}: HTTP ${response.statusCode} ${text.slice(0, 500)}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };
    return { url, token, version, api, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The migrated database cluster for `version`, made once (seconds from the dump, minutes without one) and
 * reused by every later start. */
async function ensureTemplate(version: string): Promise<string> {
  const template = join(cacheDir, 'netbox', `pg-template-${version}`);
  return cachedCluster(template, 'tidemark-migrated', `${version}\n`, async (pgData, dir) => {
    const redis = await startRedis(dir);
    try {
      await asPostgres(join(pgBin, 'createdb'), [
        '-h',
        '127.0.0.1',
        '-p',
        String(pgPortOf(pgData)),
        '-U',
        'postgres',
        'netbox',
      ]);
      const root = writeConfiguration(dir, { pgPort: pgPortOf(pgData), redisPort: redis.port, maxPageSize: 1000 });
      const started = Date.now();
      const port = pgPortOf(pgData);
      const dump = schemaDump(version);
      if (existsSync(dump)) {
        await loadDump(dump, port);
        // NetBox itself says whether the loaded database lacks a migration of this version (exit 1).
        await manage(root, ['migrate', '--check', '--no-input'], 'the dump misses migrations of this NetBox');
        console.log(`netbox: database loaded from ${basename(dump)} in ${Math.round((Date.now() - started) / 1000)} s`);
      } else {
        console.log(`netbox: migrating a new database for NetBox ${version} (no dump for it: ~11 min)`);
        await manage(root, ['migrate', '--no-input'], 'netbox migrate failed');
        await writeDump(dump, port);
        console.log(`netbox: migrated in ${Math.round((Date.now() - started) / 1000)} s; commit ${dump}`);
      }
      await manage(
        root,
        ['createsuperuser', '--no-input', '--username', 'admin', '--email', 'admin@example.org'],
        'netbox createsuperuser failed',
        {
          DJANGO_SUPERUSER_PASSWORD: adminPassword,
        },
      );
    } finally {
      rmSync(join(netboxRoot, '/tmp', `${basename(dir)}-conf`), { recursive: true, force: true });
      await redis.stop();
    }
  });
}

/**
 * The database cluster at `template` (under .cache/), made once: a new cluster in a temporary folder, `fill`
 * run while its PostgreSQL runs, then copied to `template` and marked complete with file `marker`. Later
 * calls return it at once; each user copies it (`cp -a`) into a folder of its own.
 */
export async function cachedCluster(
  template: string,
  marker: string,
  markerText: string,
  fill: (pgData: string, dir: string) => Promise<void>,
): Promise<string> {
  if (existsSync(join(template, marker))) return template;
  rmSync(template, { recursive: true, force: true });
  const dir = mkdtempSync(`/tmp/tidemark-${basename(dirname(template))}-template-`);
  try {
    const pgData = join(dir, 'pg');
    mkdirSync(pgData);
    chownSync(dir, uidOf(pgUser), gidOf(pgUser));
    chownSync(pgData, uidOf(pgUser), gidOf(pgUser));
    await asPostgres(join(pgBin, 'initdb'), [
      '-D',
      pgData,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
    ]);
    const stopPostgres = await startPostgres(pgData, dir);
    try {
      await fill(pgData, dir);
    } finally {
      await stopPostgres();
    }
    mkdirSync(dirname(template), { recursive: true });
    // Copied (cp -a keeps PostgreSQL's ownership; /tmp may be another filesystem), then marked complete.
    await execa('cp', ['-a', pgData, template]);
    writeFileSync(join(template, marker), markerText);
    return template;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The migrated database of one NetBox version, committed: `pg_dump` right after `netbox migrate`. */
function schemaDump(version: string): string {
  return join(projectRoot, 'devenv', 'netbox-schema', `netbox-${version}.sql.gz`);
}

async function loadDump(dump: string, port: number): Promise<void> {
  await execa(join(pgBin, 'psql'), psqlArgs(port, ['-q', '-v', 'ON_ERROR_STOP=1', '-d', 'netbox']), {
    input: gunzipSync(readFileSync(dump)),
    stdout: 'ignore',
  });
}

async function writeDump(dump: string, port: number): Promise<void> {
  const { stdout } = await execa(join(pgBin, 'pg_dump'), psqlArgs(port, ['--no-owner', '--no-privileges', 'netbox']), {
    encoding: 'buffer',
    maxBuffer: 1024 ** 3,
  });
  mkdirSync(join(projectRoot, 'devenv', 'netbox-schema'), { recursive: true });
  writeFileSync(dump, gzipSync(stdout, { level: 9 }));
}

function psqlArgs(port: number, args: string[]): string[] {
  return ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', ...args];
}

/** `netbox VERB...` inside NetBox's root, with the configuration at `root` (a path inside that root). */
async function manage(root: string, args: string[], failure: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  await execa(chroot, [netboxRoot, join(venv, 'bin', 'netbox'), ...args], {
    env: { ...netboxEnv(root), ...env },
    extendEnv: false,
    all: true,
  }).catch((error: { all?: string; message: string }) => {
    throw new Error(`${failure}: ${(error.all || error.message).slice(-3000)}`);
  });
}

async function netboxVersion(): Promise<string> {
  return (
    await execa(chroot, [netboxRoot, join(venv, 'bin', 'netbox'), 'version'], { extendEnv: false })
  ).stdout.trim();
}

/** The template's admin password: only ever on loopback, in a throw-away database. */
const adminPassword = 'tidemark-test-admin-password';

async function provisionToken(url: string): Promise<string> {
  const response = await request(`${url}/api/users/tokens/provision/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username: 'admin', password: adminPassword }),
  });
  const text = await response.body.text();
  if (response.statusCode !== 201)
    throw new Error(`NetBox token provisioning: HTTP ${response.statusCode} ${text.slice(0, 300)}`);
  const answer = JSON.parse(text) as { token?: string; key?: string; version?: number };
  if (answer.version !== 2 || !answer.key || !answer.token)
    throw new Error(`NetBox token provisioning answered no v2 token: fields ${Object.keys(answer).join(', ')}`);
  // A v2 token is used as nbt_<key>.<secret> (NetBox's netbox/api/authentication.py).
  return `nbt_${answer.key}.${answer.token}`;
}

/** Writes NetBox's configuration into a fresh folder inside NetBox's root; returns that folder's path as
 * seen inside the root (NETBOX_ROOT). `dir` names it. */
function writeConfiguration(dir: string, settings: { pgPort: number; redisPort: number; maxPageSize: number }): string {
  const root = join('/tmp', `${basename(dir)}-conf`);
  mkdirSync(join(netboxRoot, root, 'conf'), { recursive: true });
  const redis = (database: number) =>
    `{'HOST': '127.0.0.1', 'PORT': ${settings.redisPort}, 'USERNAME': '', 'PASSWORD': '', 'DATABASE': ${database}, 'SSL': False}`;
  writeFileSync(join(netboxRoot, root, 'conf', '__init__.py'), '');
  writeFileSync(
    join(netboxRoot, root, 'conf', 'configuration.py'),
    [
      `ALLOWED_HOSTS = ['127.0.0.1']`,
      `DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'netbox', 'USER': 'postgres', 'PASSWORD': '', 'HOST': '127.0.0.1', 'PORT': '${settings.pgPort}', 'CONN_MAX_AGE': 300}}`,
      `REDIS = {'tasks': ${redis(0)}, 'caching': ${redis(1)}}`,
      `SECRET_KEY = '${randomBytes(36).toString('hex')}'`,
      `API_TOKEN_PEPPERS = {1: '${randomBytes(36).toString('hex')}'}`,
      `MAX_PAGE_SIZE = ${settings.maxPageSize}`,
      `ISOLATED_DEPLOYMENT = True`,
      `CENSUS_REPORTING_ENABLED = False`,
      `RELEASE_CHECK_URL = None`,
      `LOGIN_REQUIRED = True`,
      '',
    ].join('\n'),
  );
  return root;
}

function netboxEnv(root: string): NodeJS.ProcessEnv {
  return { PATH: `${join(venv, 'bin')}:/usr/bin:/bin`, NETBOX_ROOT: root, HOME: root, LANG: 'C.UTF-8' };
}

/** PostgreSQL on a free loopback port, tuned for throw-away data (no fsync); returns its stop. */
export async function startPostgres(pgData: string, dir: string): Promise<() => Promise<void>> {
  const port = await freePort();
  writeFileSync(join(pgData, 'tidemark-port'), String(port));
  const log = join(dir, 'postgres.log');
  writeFileSync(log, '');
  chownSync(log, uidOf(pgUser), gidOf(pgUser));
  const settings = [
    'listen_addresses=127.0.0.1',
    `port=${port}`,
    `unix_socket_directories=${pgData}`,
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
    'max_connections=50',
  ];
  const postgres = spawnLogged(
    'setpriv',
    [
      '--reuid',
      pgUser,
      '--regid',
      pgUser,
      '--init-groups',
      '--',
      join(pgBin, 'postgres'),
      '-D',
      pgData,
      ...settings.flatMap((setting) => ['-c', setting]),
    ],
    log,
  );
  await waitFor(
    'PostgreSQL accepting connections',
    async () =>
      (await execa(join(pgBin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], { reject: false })).exitCode ===
      0,
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${tail(log)}`);
  });
  return () => stopChild(postgres);
}

export function pgPortOf(pgData: string): number {
  return Number(readFileSync(join(pgData, 'tidemark-port'), 'utf8'));
}

async function startRedis(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const log = join(dir, `redis-${port}.log`);
  const redis = spawnLogged(
    '/usr/bin/redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
    log,
  );
  await waitFor(
    'Redis answering',
    async () => (await execa('redis-cli', ['-p', String(port), 'ping'], { reject: false })).stdout === 'PONG',
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${tail(log)}`);
  });
  return { port, stop: () => stopChild(redis) };
}

async function asPostgres(command: string, args: string[]): Promise<void> {
  await execa('setpriv', ['--reuid', pgUser, '--regid', pgUser, '--init-groups', '--', command, ...args], {
    cwd: '/tmp',
  });
}

export function spawnLogged(command: string, args: string[], log: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(log, 'a');
  return spawn(command, args, { stdio: ['ignore', fd, fd], cwd: '/tmp', ...(env ? { env } : {}) });
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

function uidOf(user: string): number {
  return idOf(user, 2);
}

function gidOf(user: string): number {
  return idOf(user, 3);
}

function idOf(user: string, field: number): number {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${user}:`));
  const id = Number(line?.split(':')[field]);
  if (!Number.isInteger(id)) throw new Error(`no user ${user} (the postgresql package makes it)`);
  return id;
}

/** What NetBox requires before devices and virtual machines: a site, a device type (with its manufacturer)
 * and a role; a cluster (with its type). Returns their ids. */
export async function createObjectParents(
  api: DevNetbox['api'],
): Promise<{ site: number; deviceType: number; role: number; cluster: number }> {
  type Created = { id: number };
  const site = await api<Created>('POST', '/api/dcim/sites/', { name: 'Site 1', slug: 'site-1' });
  const maker = await api<Created>('POST', '/api/dcim/manufacturers/', { name: 'Maker', slug: 'maker' });
  const deviceType = await api<Created>('POST', '/api/dcim/device-types/', {
    manufacturer: maker.id,
    model: 'Server',
    slug: 'server',
  });
  const role = await api<Created>('POST', '/api/dcim/device-roles/', { name: 'Server', slug: 'server' });
  const clusterType = await api<Created>('POST', '/api/virtualization/cluster-types/', { name: 'KVM', slug: 'kvm' });
  const cluster = await api<Created>('POST', '/api/virtualization/clusters/', {
    name: 'Cluster 1',
    type: clusterType.id,
  });
  return { site: site.id, deviceType: deviceType.id, role: role.id, cluster: cluster.id };
}
