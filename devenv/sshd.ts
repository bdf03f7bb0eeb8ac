// A real OpenSSH server on a loopback address, standing in for a host to back up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { freePort } from '../worker/free-port.js';
import { waitFor } from './process.js';

export interface LoopbackHost {
  /** 127.0.0.x */
  address: string;
  port: number;
  /** Client key the backup server logs in with. */
  identityFile: string;
  /** known_hosts holding this host's key. */
  knownHostsFile: string;
  /** The host's public key line, for adding to another known_hosts. */
  hostKeyLine: string;
  start(): Promise<void>;
  /** Successful logins so far (from sshd's own log). */
  logins(): Promise<number>;
  /** Stops listening and cuts the sessions in progress (a host going down mid-transfer). */
  stop(options?: { dropSessions?: boolean }): Promise<void>;
}

/** Keys, config and a stopped sshd under `dir`; call start(). Root may log in with the client key only. */
export async function createLoopbackHost(dir: string, address: string): Promise<LoopbackHost> {
  await mkdir(dir, { recursive: true });
  await mkdir('/run/sshd', { recursive: true });
  const hostKey = join(dir, 'host_ed25519');
  const identityFile = join(dir, 'client_ed25519');
  for (const key of [hostKey, identityFile]) {
    // ssh-keygen asks before overwriting (and would wait forever): a second demo run starts afresh.
    await rm(key, { force: true });
    await rm(`${key}.pub`, { force: true });
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tidemark-test', '-f', key]);
  }
  const port = await freePort(address);
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${identityFile}.pub`));
  const hostPublic = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  const hostKeyLine = `[${address}]:${port} ${hostPublic}`;
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, `${hostKeyLine}\n`);
  // The host's own (empty) home for its sessions, as on a real host: otherwise every session would source
  // this machine's /root/.bashrc (a developer's pyenv/cargo set-up: ~160 ms per ssh session here).
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `ListenAddress ${address}:${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'MaxStartups 100',
      'MaxSessions 100',
      'Subsystem sftp internal-sftp',
      `SetEnv HOME=${home}`,
      '',
    ].join('\n'),
  );

  const logFile = join(dir, 'sshd.log');
  let child: ChildProcess | undefined;
  const host: LoopbackHost = {
    address,
    port,
    identityFile,
    knownHostsFile,
    hostKeyLine,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      child = spawn('/usr/sbin/sshd', ['-D', '-E', logFile, '-f', config], { stdio: 'ignore' });
      await waitFor(`sshd on ${address}:${port}`, () => canConnect(address, port), 10_000);
    },
    async logins() {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      return log.split('\n').filter((line) => line.includes('Accepted publickey')).length;
    },
    async stop(options = {}) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      // Session processes are children of the listener; a plain stop leaves them running.
      if (options.dropSessions && child.pid)
        await execa('pkill', ['-KILL', '-P', String(child.pid)], { reject: false });
      child.kill('SIGTERM');
      await exited;
    },
  };
  return host;
}

function canConnect(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
