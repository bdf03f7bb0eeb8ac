// A backup rig for one test: a loopback host (real sshd), a server dataset on the test pool, an
// inventory file, worker processes and the CLI, all real. Services come from test/run-suite.ts.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { createLoopbackHost, type LoopbackHost } from '../../devenv/sshd.js';
import { waitFor } from '../../devenv/process.js';
import { zfs } from '../../pool/zfs.js';
import { slotDirectory } from '../../activities/transfer-slots.js';
import type { PairStatus } from '../../fleet/verdict.js';
import type { StateFile } from '../../notify/state.js';

export const cliPath = fileURLToPath(new URL('../../client/cli.js', import.meta.url));

export function testServices(): { temporal: string; pool: string } {
  const temporal = process.env.TIDEMARK_TEST_TEMPORAL;
  const pool = process.env.TIDEMARK_TEST_POOL;
  if (!temporal || !pool) throw new Error('integration tests need the services of `npm test` (test/run-suite.ts)');
  return { temporal, pool };
}

let addressCounter = 0;
/** A distinct 127.0.0.x per rig in this process (x from the pid, so parallel runs rarely collide). */
function nextLoopbackAddress(): string {
  addressCounter += 1;
  return `127.0.${(process.pid % 200) + 20}.${(addressCounter % 250) + 2}`;
}

export interface RigOptions {
  /** Extra host settings merged into the inventory entry. */
  host?: Record<string, unknown>;
  concurrency?: number;
  /** Extra settings of the rig's server entry (reserve, ...). */
  server?: Record<string, unknown>;
  /** Another pool for the server dataset (default the suite's test pool). */
  pool?: string;
  /** The inventory's temporal section; set, the CLI gets no TEMPORAL_ADDRESS (default: the suite's dev server). */
  temporal?: Record<string, unknown>;
}

export interface Rig {
  dir: string;
  /** The tree on the "host" that gets backed up. */
  source: string;
  hostName: string;
  server: string;
  /** `<pool>/<rig>/<host>` */
  dataset: string;
  inventoryPath: string;
  host: LoopbackHost;
  client: Client;
  /** Runs the CLI with this rig's inventory. */
  cli(args: string[], options?: { timeoutMs?: number }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  startWorker(): Promise<ChildProcess>;
  /** Everything the rig's workers wrote to stdout and stderr so far (stderr is also passed through). */
  workerOutput(): string;
  /** Mountpoint of the host's dataset (the current copy). */
  copyPath(): Promise<string>;
  /** Snapshot names of the host's dataset, oldest first. */
  snapshots(): Promise<string[]>;
  close(): Promise<void>;
}

/** Keeps every CLI call's stdout and stderr in `into`, for tests that search them for secrets. */
export function recordCliOutput(rig: Rig, into: string[]): void {
  const cli = rig.cli.bind(rig);
  rig.cli = async (args, options) => {
    const result = await cli(args, options);
    into.push(result.stdout, result.stderr);
    return result;
  };
}

/** Builds a rig named `name`; the host serves `<dir>/src`. */
export async function createRig(name: string, options: RigOptions = {}): Promise<Rig> {
  const services = testServices();
  const dir = await mkdtemp(`/tmp/tidemark-${name}-`);
  const suffix = dir
    .slice(-6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');
  const source = join(dir, 'src');
  const hostName = 'demo-host';
  const server = `srv-${name}-${suffix}`;
  const serverDataset = `${options.pool ?? services.pool}/${name}-${suffix}`;
  const host = await createLoopbackHost(join(dir, 'ssh'), nextLoopbackAddress());
  await host.start();
  const inventoryPath = join(dir, 'tidemark.yaml');
  await writeFile(
    inventoryPath,
    stringify({
      temporal: options.temporal ?? { address: services.temporal },
      ssh: { identityFile: host.identityFile, knownHostsFile: host.knownHostsFile },
      // stateFile: the notify step's per-host state stays in the rig (default /var/lib/tidemark/state.json).
      servers: {
        [server]: {
          dataset: serverDataset,
          concurrency: options.concurrency ?? 2,
          stateFile: join(dir, 'state.json'),
          // Local restores may write into the rig only (the default root is /var/lib/tidemark/restore).
          restore: { roots: [dir] },
          ...options.server,
        },
      },
      hosts: {
        [hostName]: {
          address: host.address,
          port: host.port,
          user: 'root',
          paths: [source],
          transfer: { heartbeatTimeout: '3s', retryInterval: '1s', attempts: 3, ioTimeout: '30s' },
          // Keep every snapshot of a test run (retention tests set their own policy through options.host).
          retention: { keepWithin: '7d' },
          ...options.host,
        },
      },
    }),
  );
  const connection = await Connection.connect({ address: services.temporal });
  const client = new Client({ connection });
  const workers = new Set<ChildProcess>();
  let workerLog = '';
  const dataset = `${serverDataset}/${hostName}`;

  return {
    dir,
    source,
    hostName,
    server,
    dataset,
    inventoryPath,
    host,
    client,
    async cli(args, cliOptions = {}) {
      const result = await execa(process.execPath, [cliPath, '--config', inventoryPath, ...args], {
        reject: false,
        timeout: cliOptions.timeoutMs ?? 120_000,
        env: options.temporal ? {} : { TEMPORAL_ADDRESS: services.temporal },
      });
      return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
    },
    async startWorker() {
      // The worker logs to stdout (collected here, not echoed): failed runs' SDK warnings stay out of the test output.
      const child = spawn(process.execPath, [cliPath, '--config', inventoryPath, 'worker', '--server', server], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      workers.add(child);
      child.once('exit', () => workers.delete(child));
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        workerLog += chunk.toString();
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        process.stderr.write(chunk);
        workerLog += chunk.toString();
      });
      // A bound for a hung start only: on a busy machine a worker's start (the SDK's import) took over 30 s.
      await waitFor(`worker for ${server}`, async () => output.includes('polling'), 120_000);
      return child;
    },
    workerOutput() {
      return workerLog;
    },
    async copyPath() {
      return (await zfs(['get', '-H', '-o', 'value', 'mountpoint', dataset])).trim();
    },
    async snapshots() {
      const output = await zfs(['list', '-H', '-t', 'snapshot', '-o', 'name', '-r', '-d', '1', dataset]).catch(
        () => '',
      );
      return output
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('@')[1]!);
    },
    async close() {
      for (const worker of workers) worker.kill('SIGKILL');
      await host.stop();
      await connection.close();
      await destroyWhenIdle(serverDataset).catch(() => undefined);
      // The server's transfer slot files (/run/lock/tidemark/<server>/): the rig's server name is its own.
      await rm(slotDirectory(server), { recursive: true, force: true });
    },
  };
}

/** `status --json`'s row for the rig's own host and server, and the exit code (0 OK, 1 WARNING, 2 CRITICAL). */
export async function rigPairStatus(rig: Rig): Promise<{ exitCode: number; row: PairStatus }> {
  const result = await rig.cli(['status', '--json']);
  const rows = JSON.parse(result.stdout) as PairStatus[];
  const row = rows.find((entry) => entry.host === rig.hostName && entry.server === rig.server);
  assert.ok(row, result.stdout + result.stderr);
  return { exitCode: result.exitCode, row };
}

/** The notify step's state file as the rig's server wrote it. */
export function rigState(rig: Rig): StateFile {
  return JSON.parse(readFileSync(join(rig.dir, 'state.json'), 'utf8')) as StateFile;
}

/** `start-backup --wait` with the rig's sshd stopped (started again afterwards, whatever happens). */
export async function backupWithHostDown(rig: Rig): Promise<Awaited<ReturnType<Rig['cli']>>> {
  await rig.host.stop();
  try {
    return await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  } finally {
    await rig.host.start();
  }
}

/** Reads a snapshot through a temporary clone (zfs-fuse has no .zfs directory) and cleans up after. */
export async function withSnapshotClone<T>(
  dataset: string,
  snapshot: string,
  read: (path: string) => Promise<T>,
): Promise<T> {
  const clone = `${dataset}-clone${Date.now()}`;
  await zfs(['clone', `${dataset}@${snapshot}`, clone]);
  try {
    const mountpoint = (await zfs(['get', '-H', '-o', 'value', 'mountpoint', clone])).trim();
    return await read(mountpoint);
  } finally {
    await destroyWhenIdle(clone);
  }
}

/** Reads a snapshot through a copy received into another pool (`zfs send | zfs receive`): unlike a clone,
 * this needs no free space in the snapshot's own pool, so it can check a snapshot on a pool that is full. */
export async function withSnapshotCopy<T>(
  dataset: string,
  snapshot: string,
  intoPool: string,
  read: (path: string) => Promise<T>,
): Promise<T> {
  const copy = `${intoPool}/snapshot-copy${process.pid}-${Date.now()}`;
  await execa('zfs', ['send', `${dataset}@${snapshot}`], { buffer: false }).pipe('zfs', ['receive', copy]);
  try {
    const mountpoint = (await zfs(['get', '-H', '-o', 'value', 'mountpoint', copy])).trim();
    return await read(mountpoint);
  } finally {
    await destroyWhenIdle(copy);
  }
}

/** zfs-fuse keeps a just-read dataset busy for a moment: retry the destroy briefly. */
export async function destroyWhenIdle(dataset: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await zfs(['destroy', '-r', '-f', dataset]);
      return;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Process ids whose command line contains `needle` (for "no rsync left" checks). */
export async function processesMatching(needle: string): Promise<number[]> {
  const result = await execa('pgrep', ['-f', needle], { reject: false });
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid !== process.pid);
}
