// A real Zabbix 6.0 for the notify tests (Debian 12's zabbix-server-pgsql and zabbix-frontend-php): a
// PostgreSQL of our own on a loopback port, zabbix_server in the foreground (trapper on loopback), and the
// frontend's API under `php -S` on loopback.
//
// Loading the package's SQL takes ~35 s here, so it is done once per Zabbix version into a template
// database cluster under .cache/zabbix/; each start copies that cluster into a fresh folder (~1 s), so
// every test starts from an empty Zabbix.
//
// The Debian frontend reads its configuration from /etc/zabbix/zabbix.conf.php only: ours takes the
// database and server ports from the environment of each `php -S`, so several test frontends can run at once.
import { type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { cacheDir } from './paths.js';
import { cachedCluster, pgBin, pgPortOf, spawnLogged, startPostgres, stopChild, tail } from './netbox.js';
import { freePort } from '../worker/free-port.js';
import { waitFor } from './process.js';
import { zabbixApiCall, type ZabbixApi } from '../notify/zabbix-api.js';

const serverBinary = '/usr/sbin/zabbix_server';
const frontendRoot = '/usr/share/zabbix';
const sqlDir = '/usr/share/zabbix-server-pgsql';
const frontendConfig = '/etc/zabbix/zabbix.conf.php';
const configMarker = "Tidemark's test environment (devenv/zabbix.ts)";

export interface DevZabbix {
  /** The trapper's port on 127.0.0.1. */
  trapperPort: number;
  /** http://127.0.0.1:<port>/api_jsonrpc.php */
  apiUrl: string;
  /** A file holding an API token of the Admin user (mode 0600). */
  apiTokenFile: string;
  /** An API call as Admin; throws with Zabbix's error. */
  api<T = unknown>(method: string, params: unknown): Promise<T>;
  /** Makes the server load configuration changes now (as its CacheUpdateFrequency would). */
  reloadConfiguration(): Promise<void>;
  stop(): Promise<void>;
}

export function zabbixInstalled(): boolean {
  return existsSync(serverBinary) && existsSync(join(frontendRoot, 'api_jsonrpc.php')) && existsSync('/usr/bin/php');
}

export async function startZabbix(): Promise<DevZabbix> {
  if (!zabbixInstalled())
    throw new Error(
      'Zabbix is not installed: apt-get install zabbix-server-pgsql zabbix-frontend-php php-cli php-pgsql (scripts/setup.sh --tests installs them)',
    );
  writeFrontendConfig();
  const template = await ensureTemplate(await zabbixVersion());
  const { dir, dbPort, stopDatabase } = await startDatabaseCopy(template);
  // Last started, first stopped; the database (and the folder) last of all.
  const stops: Array<() => Promise<void>> = [stopDatabase];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    const trapperPort = await freeServerPort();
    const config = writeServerConfig(dir, dbPort, trapperPort);
    const serverLog = join(dir, 'zabbix_server.log');
    const server = spawnLogged(serverBinary, ['-f', '-c', config], join(dir, 'zabbix_server.out'));
    stops.push(() => stopChild(server));
    await waitFor('Zabbix trapper listening', () => listening(trapperPort), 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${tail(serverLog)}\n${tail(join(dir, 'zabbix_server.out'))}`);
    });
    const frontend = await startFrontend(dir, dbPort, trapperPort);
    stops.push(() => stopChild(frontend.process));
    const api: ZabbixApi = { url: `http://127.0.0.1:${frontend.port}/api_jsonrpc.php`, tokenFile: join(dir, 'token') };
    const session = await zabbixApiCall<string>(api, 'user.login', { username: 'Admin', password: 'zabbix' });
    const call = <T>(method: string, params: unknown) => zabbixApiCall<T>(api, method, params, session);
    const { tokenids } = await call<{ tokenids: string[] }>('token.create', { name: 'tidemark', userid: '1' });
    const [generated] = await call<Array<{ token: string }>>('token.generate', tokenids);
    writeFileSync(api.tokenFile, `${generated!.token}\n`, { mode: 0o600 });
    return {
      trapperPort,
      apiUrl: api.url,
      apiTokenFile: api.tokenFile,
      api: call,
      reloadConfiguration: async () => {
        await execa(serverBinary, ['-c', config, '-R', 'config_cache_reload']);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function zabbixVersion(): Promise<string> {
  const { stdout } = await execa(serverBinary, ['-V']);
  const version = /\(Zabbix\)\s+(\S+)/.exec(stdout)?.[1];
  if (!version) throw new Error(`cannot read the version of ${serverBinary}: ${stdout.split('\n')[0]}`);
  return version;
}

/** The database cluster with the package's schema and data for `version`, made once and reused. */
async function ensureTemplate(version: string): Promise<string> {
  const template = join(cacheDir, 'zabbix', `pg-template-${version}`);
  return cachedCluster(template, 'tidemark-loaded', `${version}\n`, async (pgData) => {
    const started = Date.now();
    const psql = [join(pgBin, 'psql'), '-h', '127.0.0.1', '-p', String(pgPortOf(pgData)), '-U', 'postgres'];
    await execa(psql[0]!, [...psql.slice(1), '-q', '-c', 'CREATE DATABASE zabbix']);
    const sql = ['schema', 'images', 'data'].map((name) => gunzipSync(readFileSync(join(sqlDir, `${name}.sql.gz`))));
    await execa(psql[0]!, [...psql.slice(1), '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-d', 'zabbix'], {
      input: Buffer.concat(sql),
      stdout: 'ignore',
    });
    // The bundled "Zabbix server" host polls an agent that is not there: off, to keep the tests quiet.
    await execa(psql[0]!, [
      ...psql.slice(1),
      '-q',
      '-d',
      'zabbix',
      '-c',
      "UPDATE hosts SET status = 1 WHERE host = 'Zabbix server'",
    ]);
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(`zabbix: database ${version} loaded from the package's SQL in ${seconds} s`);
  });
}

/** PostgreSQL on a copy of the template, in a new folder that stopping it removes. */
async function startDatabaseCopy(
  template: string,
): Promise<{ dir: string; dbPort: number; stopDatabase(): Promise<void> }> {
  const dir = mkdtempSync('/tmp/tidemark-zabbix-');
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    // PostgreSQL (another user) must reach its data folder inside.
    chmodSync(dir, 0o711);
    const pgData = join(dir, 'pg');
    await execa('cp', ['-a', template, pgData]);
    const stopPostgres = await startPostgres(pgData, dir);
    const stopDatabase = async () => {
      await stopPostgres();
      removeDir();
    };
    return { dir, dbPort: pgPortOf(pgData), stopDatabase };
  } catch (error) {
    removeDir();
    throw error;
  }
}

/** Our frontend configuration, unless another one is there (an administrator's: left alone). */
function writeFrontendConfig(): void {
  if (existsSync(frontendConfig) && !readFileSync(frontendConfig, 'utf8').includes(configMarker))
    throw new Error(`${frontendConfig} exists and is not the test environment's: the tests will not replace it`);
  writeFileSync(
    frontendConfig,
    [
      '<?php',
      `// Written by ${configMarker}: each test frontend passes its ports in its environment.`,
      "$DB['TYPE'] = 'POSTGRESQL';",
      "$DB['SERVER'] = '127.0.0.1';",
      "$DB['PORT'] = getenv('TIDEMARK_ZABBIX_DB_PORT') ?: '5432';",
      "$DB['DATABASE'] = 'zabbix';",
      "$DB['USER'] = 'postgres';",
      "$DB['PASSWORD'] = '';",
      "$DB['SCHEMA'] = '';",
      "$DB['ENCRYPTION'] = false;",
      "$DB['KEY_FILE'] = '';",
      "$DB['CERT_FILE'] = '';",
      "$DB['CA_FILE'] = '';",
      "$DB['VERIFY_HOST'] = false;",
      "$DB['CIPHER_LIST'] = '';",
      "$DB['VAULT_URL'] = '';",
      "$DB['VAULT_DB_PATH'] = '';",
      "$DB['VAULT_TOKEN'] = '';",
      "$DB['DOUBLE_IEEE754'] = true;",
      "$ZBX_SERVER = '127.0.0.1';",
      "$ZBX_SERVER_PORT = getenv('TIDEMARK_ZABBIX_SERVER_PORT') ?: '10051';",
      "$ZBX_SERVER_NAME = 'tidemark-test';",
      '$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;',
      '',
    ].join('\n'),
  );
}

/** A small server: only the processes the trapper, discovery and triggers need; configuration reloaded
 * every 2 s so discovered items take values soon. */
function writeServerConfig(dir: string, dbPort: number, trapperPort: number): string {
  const path = join(dir, 'zabbix_server.conf');
  const settings: Record<string, string | number> = {
    ListenIP: '127.0.0.1',
    ListenPort: trapperPort,
    DBHost: '127.0.0.1',
    DBPort: dbPort,
    DBName: 'zabbix',
    DBUser: 'postgres',
    PidFile: join(dir, 'zabbix_server.pid'),
    LogFile: join(dir, 'zabbix_server.log'),
    SocketDir: dir,
    AllowRoot: 1,
    CacheUpdateFrequency: 2,
    HousekeepingFrequency: 0,
    StartPollers: 1,
    StartPollersUnreachable: 1,
    StartPingers: 0,
    StartDiscoverers: 0,
    StartHTTPPollers: 0,
    StartTrappers: 2,
    StartPreprocessors: 1,
    StartLLDProcessors: 1,
    StartHistoryPollers: 1,
    StartDBSyncers: 1,
    StartTimers: 1,
    StartEscalators: 1,
    StartAlerters: 1,
    StartReportWriters: 0,
    StartODBCPollers: 0,
  };
  writeFileSync(
    path,
    `${Object.entries(settings)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n')}\n`,
  );
  return path;
}

async function startFrontend(
  dir: string,
  dbPort: number,
  trapperPort: number,
): Promise<{ port: number; process: ChildProcess }> {
  const port = await freePort();
  const frontend = spawnLogged('php', ['-S', `127.0.0.1:${port}`, '-t', frontendRoot], join(dir, 'php.log'), {
    ...process.env,
    TIDEMARK_ZABBIX_DB_PORT: String(dbPort),
    TIDEMARK_ZABBIX_SERVER_PORT: String(trapperPort),
    PHP_CLI_SERVER_WORKERS: '2',
  });
  const api: ZabbixApi = { url: `http://127.0.0.1:${port}/api_jsonrpc.php`, tokenFile: '' };
  await waitFor(
    'Zabbix API answering',
    async () => (await zabbixApiCall(api, 'apiinfo.version', {})) !== undefined,
    60_000,
  ).catch(async (error: Error) => {
    await stopChild(frontend);
    throw new Error(`${error.message}\n${tail(join(dir, 'php.log'))}`);
  });
  return { port, process: frontend };
}

/** zabbix_server takes ListenPort 1024-32767 only: a free one there. */
async function freeServerPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await portFree(port)) return port;
  }
  throw new Error('no free port in 20000-31999 on 127.0.0.1 for the Zabbix trapper');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Whether something accepts connections on the port (connecting, so a starting server's bind is never raced). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
