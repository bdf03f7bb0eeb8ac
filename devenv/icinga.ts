// A real Icinga 2 (Debian package `icinga2`) for the notify tests: `icinga2 api setup` for the CA and the
// node certificate, then a daemon on a minimal configuration of our own (API listener on loopback, two
// ApiUsers, no checks), passive Host and Service objects made through the API.
//
// The package's paths are used as they are (/var/lib/icinga2 for certificates and API objects,
// /run/icinga2 for the pid file), so one Icinga runs at a time: an Icinga that Tidemark did not start is
// left alone and reported.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Agent, request } from 'undici';
import { cacheDir } from './paths.js';
import { freePort } from '../worker/free-port.js';
import { isAlive, waitFor } from './process.js';

const certsDir = '/var/lib/icinga2/certs';
const pidFile = '/run/icinga2/icinga2.pid';
/** Marks our daemons' command lines, so a leftover one from a killed test run can be told apart. */
const configName = 'tidemark-icinga2.conf';

export interface IcingaCheckResult {
  /** 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
  state: number;
  output: string;
  performance_data?: string[];
  check_source?: string;
}

export interface DevIcinga {
  /** https://127.0.0.1:<port> */
  url: string;
  caFile: string;
  /** CN of the API's certificate (the node name): the URL uses an address, so the check needs the name. */
  tlsServerName: string;
  /** ApiUser with actions/process-check-result and objects/query/* only, as Tidemark needs. */
  user: string;
  passwordFile: string;
  /** Creates (or keeps) host `host` and passive service `service` on it. */
  ensurePassiveService(host: string, service: string): Promise<void>;
  deleteHost(host: string): Promise<void>;
  lastCheckResult(host: string, service: string): Promise<IcingaCheckResult | undefined>;
  stop(): Promise<void>;
}

export async function startIcinga(): Promise<DevIcinga> {
  if ((await execa('icinga2', ['--version'], { reject: false })).exitCode !== 0) {
    throw new Error('icinga2 is not installed: apt-get install icinga2 (scripts/setup.sh --tests installs it)');
  }
  const nodeName = await ensureApiCertificates();
  await stopLeftover();

  const dir = join(cacheDir, 'icinga');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const adminPassword = randomBytes(12).toString('hex');
  const configPath = join(dir, configName);
  writeFileSync(
    configPath,
    [
      `const NodeName = ${JSON.stringify(nodeName)}`,
      'const ZoneName = NodeName',
      'include <itl>',
      'object Endpoint NodeName { }',
      'object Zone ZoneName { endpoints = [ NodeName ] }',
      `object ApiListener "api" { bind_host = "127.0.0.1"; bind_port = ${port} }`,
      `object ApiUser "tidemark" { password = ${JSON.stringify(password)}; permissions = [ "actions/process-check-result", "objects/query/*" ] }`,
      `object ApiUser "tidemark-test-admin" { password = ${JSON.stringify(adminPassword)}; permissions = [ "*" ] }`,
      `object FileLogger "main-log" { severity = "information"; path = ${JSON.stringify(join(dir, 'icinga2.log'))} }`,
      '',
    ].join('\n'),
    { mode: 0o640 },
  );
  const nagios = await execa('id', ['-u', 'nagios'], { reject: false });
  const nagiosGid = await execa('id', ['-g', 'nagios'], { reject: false });
  if (nagios.exitCode === 0) {
    chownSync(configPath, 0, Number(nagiosGid.stdout));
    chownSync(dir, Number(nagios.stdout), Number(nagiosGid.stdout));
  }
  const passwordFile = join(dir, 'tidemark.pw');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file; Tidemark refuses a password file others can read.
  chmodSync(passwordFile, 0o600);
  mkdirSync('/run/icinga2/cmd', { recursive: true });
  if (nagios.exitCode === 0) {
    chownSync('/run/icinga2', Number(nagios.stdout), Number(nagiosGid.stdout));
    chownSync('/run/icinga2/cmd', Number(nagios.stdout), Number(nagiosGid.stdout));
  }

  const validate = await execa('icinga2', ['daemon', '-C', '-c', configPath], { reject: false });
  if (validate.exitCode !== 0)
    throw new Error(`icinga2 rejected ${configPath}:\n${validate.stdout.split('\n').slice(-15).join('\n')}`);

  const log = openSync(join(dir, 'daemon.out'), 'w');
  const child: ChildProcess = spawn('icinga2', ['daemon', '-c', configPath], { stdio: ['ignore', log, log] });
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));

  const url = `https://127.0.0.1:${port}`;
  const caFile = join(certsDir, 'ca.crt');
  const dispatcher = new Agent({ connect: { ca: readFileSync(caFile, 'utf8'), servername: nodeName } });
  const api = async (method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
    const response = await request(`${url}${path}`, {
      method,
      dispatcher,
      headers: {
        accept: 'application/json',
        authorization: `Basic ${Buffer.from(`tidemark-test-admin:${adminPassword}`).toString('base64')}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.statusCode, body: await response.body.text() };
  };

  try {
    await waitFor(
      'the Icinga 2 API',
      async () => {
        if (exited !== undefined)
          throw new Error(
            `icinga2 exited ${exited}: ${readFileSync(join(dir, 'daemon.out'), 'utf8').split('\n').slice(-10).join('\n')}`,
          );
        return (await api('GET', '/v1/status/ApiListener')).status === 200;
      },
      60_000,
    );
  } catch (error) {
    child.kill('SIGTERM');
    throw new Error(`${(error as Error).message}\n(icinga2 output: ${join(dir, 'daemon.out')})`, { cause: error });
  }

  return {
    url,
    caFile,
    tlsServerName: nodeName,
    user: 'tidemark',
    passwordFile,
    async ensurePassiveService(host, service) {
      const passive = { check_command: 'dummy', enable_active_checks: false, max_check_attempts: 1 };
      for (const [path, what] of [
        [`/v1/objects/hosts/${encodeURIComponent(host)}`, `host ${host}`],
        [`/v1/objects/services/${encodeURIComponent(`${host}!${service}`)}`, `service ${host}!${service}`],
      ] as const) {
        const response = await api('PUT', path, { attrs: passive });
        if (response.status !== 200 && !/already exists/.test(response.body))
          throw new Error(`creating ${what}: HTTP ${response.status} ${response.body}`);
      }
    },
    async deleteHost(host) {
      await api('DELETE', `/v1/objects/hosts/${encodeURIComponent(host)}?cascade=1`);
    },
    async lastCheckResult(host, service) {
      const response = await api(
        'GET',
        `/v1/objects/services/${encodeURIComponent(`${host}!${service}`)}?attrs=last_check_result`,
      );
      if (response.status !== 200)
        throw new Error(`reading ${host}!${service}: HTTP ${response.status} ${response.body}`);
      const parsed = JSON.parse(response.body) as {
        results: { attrs: { last_check_result: IcingaCheckResult | null } }[];
      };
      return parsed.results[0]?.attrs.last_check_result ?? undefined;
    },
    async stop() {
      await dispatcher.close();
      if (exited !== undefined) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** `icinga2 api setup` once (CA and node certificate); returns the node certificate's CN. */
async function ensureApiCertificates(): Promise<string> {
  const nodeCert = () =>
    existsSync(certsDir) ? readdirSync(certsDir).find((name) => name.endsWith('.crt') && name !== 'ca.crt') : undefined;
  if (!nodeCert() || !existsSync(join(certsDir, 'ca.crt'))) {
    const setup = await execa('icinga2', ['api', 'setup'], { reject: false });
    if (setup.exitCode !== 0) throw new Error(`icinga2 api setup failed: ${setup.stderr || setup.stdout}`);
  }
  const name = nodeCert();
  if (!name) throw new Error(`icinga2 api setup made no node certificate in ${certsDir}`);
  const subject = new X509Certificate(readFileSync(join(certsDir, name))).subject;
  return /CN=([^\n,]+)/.exec(subject)?.[1] ?? name.replace(/\.crt$/, '');
}

/** A daemon left by a killed test run (its command line names our config) is stopped; any other is reported. */
async function stopLeftover(): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!pid || !isAlive(pid)) return;
  const commandLine = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
  if (!commandLine.includes(configName)) {
    throw new Error(
      `an Icinga 2 not started by the tests is running (pid ${pid}, ${pidFile}); stop it first (systemctl stop icinga2)`,
    );
  }
  process.kill(pid, 'SIGTERM');
  await waitFor(`leftover icinga2 (pid ${pid}) to stop`, async () => !isAlive(pid), 20_000);
}
