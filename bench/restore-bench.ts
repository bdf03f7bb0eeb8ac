#!/usr/bin/env node
// `npm run bench:restore [-- --mb 100]`: backs up one generated host tree, then times restoring out of
// that snapshot, each case --reps times (median reported), in rotating order:
//   tidemark-file  `tidemark restore --host H --path /<one small file> --to DIR --wait`
//   tidemark-host  the same without --path (the whole host)
//   bare-file      what an operator would do by hand: zfs clone + rsync of that file + zfs destroy
//   bare-host      the same for the whole host
// Wall time runs from the command's start to its exit; time to first byte from the start until the
// restored file (for a whole host: anything at all under DIR) exists, polled every 20 ms. A tidemark case's
// steps also split its wall time at the run's first and last history events: the CLI's share before the
// workflow (node, imports, inventory, connecting, starting it) and after it (the result reaching the CLI, exit).
// Prints a table and writes results/restore-bench-<stamp>.json.
import { elapsedLog, machineFacts, runBench, writeResultJson } from './machine.js';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { Command, InvalidArgumentError } from 'commander';
import { execa, execaSync } from 'execa';
import { stringify } from 'yaml';
import { zfs } from '../pool/zfs.js';
import { projectRoot } from '../devenv/paths.js';
import { freePort } from '../worker/free-port.js';
import { startDevServer, type DevServer } from '../devenv/temporal-dev.js';
import { createFleet, type FleetHost } from './fleet.js';
import { median } from './report.js';
import { cliEnvironment, cliPath, runOne, runSpan, startWorker, stepTimes } from './tidemark.js';
import { createBenchPool } from './bench-pool.js';
import { cleanupStack, destroyWhenIdle } from './cleanup.js';

const integer = (min: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return value;
};

interface Options {
  mb: number;
  files: number;
  largeFiles: number;
  reps: number;
  out: string;
}

const program = new Command('bench:restore')
  .description('Restore benchmark: tidemark restore of one file and of a whole host against zfs clone + rsync')
  .option('--mb <n>', 'MiB in the host tree, small and large files together', integer(1), 100)
  .option('--files <n>', 'small files in the host tree', integer(1), 400)
  .option('--large-files <n>', 'large incompressible files in the host tree', integer(1), 4)
  .option('--reps <n>', 'repetitions of each case (the median is reported)', integer(1), 3)
  .option('--out <dir>', 'where the JSON goes', join(projectRoot, 'results'));

const log = elapsedLog();

const cases = ['tidemark-file', 'tidemark-host', 'bare-file', 'bare-host'] as const;
type Case = (typeof cases)[number];
const caseLabels: Record<Case, string> = {
  'tidemark-file': 'tidemark restore, one file',
  'tidemark-host': 'tidemark restore, whole host',
  'bare-file': 'zfs clone + rsync, one file',
  'bare-host': 'zfs clone + rsync, whole host',
};

interface Timing {
  wallMs: number;
  /** Until the restored file (whole host: the first entry under the target) existed; undefined if never seen. */
  firstByteMs?: number;
  /** Workflow steps (tidemark cases): activity scheduled → completed, ms. */
  steps?: Record<string, number>;
}

/** Runs `work`, polling every 20 ms from its start for `arrived()`; the poll stops when the work ends.
 * `after` (the workflow's step times) runs once the clock has stopped. */
async function timed<T>(
  arrived: () => boolean,
  work: () => Promise<T>,
  after?: (result: T) => Promise<Record<string, number> | undefined>,
): Promise<Timing> {
  const started = performance.now();
  let firstByteMs: number | undefined;
  const poll = setInterval(() => {
    if (firstByteMs === undefined && arrived()) firstByteMs = performance.now() - started;
  }, 20);
  let result: T;
  let wallMs: number;
  try {
    result = await work();
    wallMs = performance.now() - started;
    // The last poll may not have run since the copy finished.
    if (firstByteMs === undefined && arrived()) firstByteMs = wallMs;
  } finally {
    clearInterval(poll);
  }
  const steps = after ? await after(result) : undefined;
  return { wallMs, firstByteMs, ...(steps ? { steps } : {}) };
}

async function main(): Promise<void> {
  program.parse(process.argv);
  const options = program.opts<Options>();
  const startedAt = new Date();
  const loadBefore = loadavg();
  const cleanups = cleanupStack();

  try {
    const pool = `tmbench${process.pid}`;
    // Sparse: the backup, the restored copies live outside the pool; room for clones' metadata and slack.
    const sizeGiB = Math.ceil((options.mb * 4 + 1024) / 1024);
    await createBenchPool(pool, sizeGiB, cleanups, log);

    log('starting a Temporal dev server');
    const temporal: DevServer = await startDevServer({ port: await freePort() });
    cleanups.push(() => temporal.stop());

    const dir = await mkdtemp('/tmp/tidemark-restore-bench-');
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    log(
      `generating one host: ${options.files} small + ${options.largeFiles} large files, ${options.mb} MiB, in ${dir}`,
    );
    const fleet = await createFleet(
      dir,
      1,
      { files: options.files, mebibytes: options.mb, largeFiles: options.largeFiles },
      log,
    );
    cleanups.push(() => fleet.stop());
    const host: FleetHost = fleet.hosts[0]!;

    const server = `rbench${process.pid}`;
    const serverDataset = `${pool}/restore`;
    const inventoryPath = join(dir, 'tidemark.yaml');
    writeFileSync(
      inventoryPath,
      stringify({
        temporal: { address: temporal.address },
        ssh: { identityFile: fleet.identityFile, knownHostsFile: fleet.knownHostsFile },
        servers: { [server]: { dataset: serverDataset, restore: { roots: [dir] } } },
        hosts: { [host.name]: { address: host.ssh.address, port: host.ssh.port, user: 'root', paths: [host.source] } },
      }),
    );
    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    const worker = await startWorker(inventoryPath, server, temporal.address);
    cleanups.push(() => worker.stop());

    log(`backing up ${host.name} (${(host.tree.bytes / 1024 / 1024).toFixed(1)} MiB, ${host.tree.files} files)`);
    const backup = await runOne(client, server, host.name);
    log(`backup done in ${(backup.ms / 1000).toFixed(1)} s`);
    const hostDataset = `${serverDataset}/${host.name}`;
    const snapshots = (await zfs(['list', '-H', '-t', 'snapshot', '-o', 'name', '-s', 'creation', '-r', hostDataset]))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /@tidemark-\d{8}T\d{6}Z$/.test(line));
    const snapshot = snapshots.at(-1);
    if (!snapshot) throw new Error(`no complete snapshot of ${hostDataset} after the backup`);
    log(`snapshot ${snapshot}`);

    // The small file: the first one the generator wrote (100 B – 32 KiB).
    const smallFile = join(host.source, host.regularFiles[0]!);
    const env = cliEnvironment(temporal.address);

    let sequence = 0;
    const targetDir = () => join(dir, 'restored', `r${++sequence}`);
    const fileArrived = (target: string) => () => existsSync(join(target, smallFile));
    const anythingArrived = (target: string) => () => existsSync(target) && readdirSync(target).length > 0;

    const tidemark = async (target: string, path?: string) => {
      const args = [
        cliPath,
        '--config',
        inventoryPath,
        'restore',
        '--host',
        host.name,
        ...(path ? ['--path', path] : []),
        '--to',
        target,
        '--wait',
      ];
      const spawnedAtMs = Date.now();
      const run = await execa(process.execPath, args, { env, reject: false, all: true });
      const exitedAtMs = Date.now();
      if (run.exitCode !== 0) throw new Error(`tidemark restore exited ${run.exitCode}: ${run.all}`);
      return { started: /started (\S+) run (\S+)/.exec(run.all ?? ''), spawnedAtMs, exitedAtMs };
    };
    const workflowSteps = async ({ started, spawnedAtMs, exitedAtMs }: Awaited<ReturnType<typeof tidemark>>) => {
      if (!started) return undefined;
      const handle = client.workflow.getHandle(started[1]!, started[2]!);
      const steps = await stepTimes(handle);
      // The CLI's own share: from its start to the run's first event, and from the run's last event to its exit.
      const span = await runSpan(handle);
      steps.cliBeforeWorkflow = span.firstEventMs - spawnedAtMs;
      steps.cliAfterWorkflow = exitedAtMs - span.lastEventMs;
      const pick = [
        'planRestore',
        'openRestoreSnapshot',
        'restoreFiles',
        'closeRestoreSnapshot',
        'dispatch',
        'betweenSteps',
        'workflow',
        'cliBeforeWorkflow',
        'cliAfterWorkflow',
      ];
      return Object.fromEntries(
        pick.filter((name) => steps[name] !== undefined).map((name) => [name, Math.round(steps[name]!)]),
      );
    };
    // The bare baseline: the flags Tidemark's own restore uses, by hand (--mkpath as Tidemark does).
    const bare = async (target: string, path?: string) => {
      const clone = `${hostDataset}-bare-${sequence}`;
      await zfs(['clone', snapshot, clone]);
      try {
        const mountpoint = (await zfs(['get', '-H', '-o', 'value', 'mountpoint', clone])).trim();
        const source = path ? `${mountpoint}/./${path.replace(/^\/+/, '')}` : `${mountpoint}/./`;
        await execa('rsync', [
          '-a',
          '--hard-links',
          '--acls',
          '--xattrs',
          '--numeric-ids',
          '--sparse',
          '--relative',
          '--mkpath',
          '--',
          source,
          `${target}/`,
        ]);
      } finally {
        await destroyWhenIdle(() => zfs(['destroy', clone]));
      }
    };
    const run: Record<Case, (target: string) => Promise<Timing>> = {
      'tidemark-file': (target) => timed(fileArrived(target), () => tidemark(target, smallFile), workflowSteps),
      'tidemark-host': (target) => timed(anythingArrived(target), () => tidemark(target), workflowSteps),
      'bare-file': (target) => timed(fileArrived(target), () => bare(target, smallFile)),
      'bare-host': (target) => timed(anythingArrived(target), () => bare(target)),
    };

    // What starting the CLI alone costs (node + imports), part of every tidemark wall time.
    const cliStart: number[] = [];
    for (let rep = 0; rep < options.reps; rep++) {
      const started = performance.now();
      await execa(process.execPath, [cliPath, '--version'], { env });
      cliStart.push(performance.now() - started);
    }

    const timings = Object.fromEntries(cases.map((name) => [name, [] as Timing[]])) as Record<Case, Timing[]>;
    for (let rep = 0; rep < options.reps; rep++) {
      for (let step = 0; step < cases.length; step++) {
        const name = cases[(rep + step) % cases.length]!;
        await execa('sync', [], { reject: false });
        await sleep(1_000);
        const target = targetDir();
        const timing = await run[name](target);
        if (!existsSync(join(target, smallFile)))
          throw new Error(`${name}: ${smallFile} is not under ${target} after the restore`);
        timings[name].push(timing);
        log(
          `rep ${rep + 1} ${caseLabels[name].padEnd(30)} wall ${(timing.wallMs / 1000).toFixed(2)} s, first byte ${timing.firstByteMs === undefined ? '?' : (timing.firstByteMs / 1000).toFixed(2)} s`,
        );
        rmSync(target, { recursive: true, force: true });
      }
    }

    const summary = Object.fromEntries(
      cases.map((name) => {
        const list = timings[name];
        const firstBytes = list
          .map((timing) => timing.firstByteMs)
          .filter((value): value is number => value !== undefined);
        const steps = list[0]?.steps
          ? Object.fromEntries(
              Object.keys(list[0].steps).map((key) => [key, median(list.map((timing) => timing.steps?.[key] ?? 0))]),
            )
          : undefined;
        return [
          name,
          {
            wallMs: Math.round(median(list.map((timing) => timing.wallMs))),
            firstByteMs: firstBytes.length ? Math.round(median(firstBytes)) : undefined,
            ...(steps ? { steps } : {}),
          },
        ];
      }),
    ) as Record<Case, { wallMs: number; firstByteMs?: number; steps?: Record<string, number> }>;

    let rsyncVersion = '';
    try {
      rsyncVersion = /rsync\s+version\s+(\S+)/.exec(execaSync('rsync', ['--version']).stdout)?.[1] ?? '';
    } catch {
      rsyncVersion = '';
    }
    const result = {
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: {
        ...machineFacts(loadBefore),
        rsync: rsyncVersion,
        zfs: existsSync('/sbin/zfs-fuse') || existsSync('/usr/sbin/zfs-fuse') ? 'zfs-fuse' : 'openzfs',
      },
      config: { mebibytes: options.mb, files: options.files, largeFiles: options.largeFiles, reps: options.reps },
      tree: host.tree,
      smallFile: { path: smallFile, bytes: Number(execaSync('stat', ['-c', '%s', smallFile]).stdout) },
      snapshot,
      backupMs: Math.round(backup.ms),
      cliStartMs: Math.round(median(cliStart)),
      summary,
      runs: timings,
    };

    const seconds = (ms?: number) => (ms === undefined ? '?' : (ms / 1000).toFixed(2)).padStart(8);
    console.log('');
    console.log(
      `restore of ${host.tree.files} files, ${(host.tree.bytes / 1024 / 1024).toFixed(0)} MiB (small file ${result.smallFile.bytes} B); median of ${options.reps}; ${result.machine.nproc} cores, ${result.machine.zfs}`,
    );
    console.log(`${'case'.padEnd(32)} ${'wall s'.padStart(8)} ${'1st byte s'.padStart(10)}`);
    for (const name of cases)
      console.log(
        `${caseLabels[name].padEnd(32)} ${seconds(summary[name].wallMs)} ${seconds(summary[name].firstByteMs).padStart(10)}`,
      );
    console.log(
      `overhead, one file: ${seconds(summary['tidemark-file'].wallMs - summary['bare-file'].wallMs).trim()} s; whole host: ${seconds(summary['tidemark-host'].wallMs - summary['bare-host'].wallMs).trim()} s; CLI start alone ${seconds(result.cliStartMs).trim()} s`,
    );
    for (const name of ['tidemark-file', 'tidemark-host'] as const) {
      const steps = summary[name].steps;
      if (steps)
        console.log(
          `${name} workflow steps (ms): ${Object.entries(steps)
            .map(([key, ms]) => `${key} ${ms}`)
            .join(', ')}`,
        );
    }
    writeResultJson(options.out, 'restore-bench', result.startedAt, result);
  } finally {
    log('cleaning up');
    await cleanups.run();
  }
}

await runBench(main);
