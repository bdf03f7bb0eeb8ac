#!/usr/bin/env node
// `npm run bench -- --hosts 20`: builds a fleet of loopback hosts, a ZFS pool and a Temporal dev server,
// then times, for each workload (first full, unchanged re-run, 1% of files changed):
//   SOWN's and PlanB's rsync invocations, Tidemark's own rsync command run bare, Tidemark one host at a
//   time and Tidemark with the whole fleet started at once; plus worker/Temporal CPU, memory and idle
//   load. Prints tables with PASS/MISS per target and writes JSON and a PNG chart under results/.
import { elapsedLog, machineFacts, resultPath, runBench } from './machine.js';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
import {
  barePlan,
  runBare,
  runBareWithoutMetadata,
  runPlanb,
  runSown,
  type DirectContext,
  type HostRun,
} from './baselines.js';
import { renderChart } from './chart.js';
import {
  admitFleet,
  changeFiles,
  createFleet,
  memoryPhaseName,
  sequentialName,
  type Fleet,
  type FleetHost,
} from './fleet.js';
import {
  childrenNamed,
  foreignCpuBetween,
  foreignCpuSnapshot,
  listeningPid,
  machineBusySeconds,
  processCpu,
  processMemory,
  resetPeakMemory,
  type ProcCpu,
  sampleMax,
  zfsFusePid,
} from './procstat.js';
import {
  evaluateTargets,
  findRun,
  formatReport,
  median,
  methodLabels,
  overheadFor,
  workloadLabels,
  workloads,
  type BenchResult,
  type Method,
  type MethodRun,
  type Workload,
} from './report.js';
import { runFleet, runOne, startWorker, type WorkerProcess } from './tidemark.js';
import { runSmallFleet, smallFleetNames, smallFleetShape } from './small-fleet.js';
import { createBenchPool } from './bench-pool.js';
import { cleanupStack, destroyWhenIdle } from './cleanup.js';

const integer = (min: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return value;
};
const number = (text: string) => {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError('expected a number >= 0');
  return value;
};

interface Options {
  hosts?: number;
  files?: number;
  mb?: number;
  largeFiles?: number;
  concurrency: number;
  changePercent: number;
  workloads?: string;
  idleSeconds?: number;
  memoryPhase?: boolean;
  smallFleet?: number;
  smoke: boolean;
  temporal?: string;
  pool?: string;
  out: string;
  keep: boolean;
}

const program = new Command('bench')
  .description("Tidemark benchmark: bare rsync, the reference systems' flags and Tidemark on one generated fleet")
  .option('--hosts <n>', 'hosts in the fleet (default 20; smoke 2)', integer(1))
  .option('--files <n>', 'small files per host (default 2000; smoke 60)', integer(1))
  .option('--mb <n>', 'MiB per host, small and large files together (default 30; smoke 2)', integer(1))
  .option('--large-files <n>', 'large files per host (default 4; smoke 1)', integer(0))
  .option('--concurrency <n>', 'transfers the Tidemark server runs at once (inventory "concurrency")', integer(1), 2)
  .option('--change-percent <n>', 'share of files the "changed" workload modifies', number, 1)
  .option('--workloads <list>', 'comma list of full,unchanged,changed (default all; smoke full)')
  .option('--idle-seconds <n>', 'idle CPU window (default 10; smoke 2)', integer(1))
  .option('--memory-phase', 'measure worker RSS with 4 transfers at once (default on; smoke off)')
  .option('--no-memory-phase', 'skip the 4-at-once memory phase')
  .option('--small-fleet <n>', 'small hosts for the fleet comparison, 0 to skip (default 8; smoke 2)', integer(0))
  .option('--smoke', '2 tiny hosts, first full backup only, short idle window: a < 90 s sanity run', false)
  .option(
    '--temporal <address>',
    'use this Temporal server instead of starting a dev server (env TIDEMARK_BENCH_TEMPORAL)',
  )
  .option('--pool <name>', 'use this existing ZFS pool instead of creating one (env TIDEMARK_BENCH_POOL)')
  .option('--out <dir>', 'where JSON and PNG go', join(projectRoot, 'results'))
  .option('--keep', 'keep the datasets and generated trees', false);

const log = elapsedLog();

async function main(): Promise<void> {
  program.parse(process.argv);
  const options = program.opts<Options>();
  const smoke = options.smoke;
  const config: BenchResult['config'] = {
    smoke,
    hosts: options.hosts ?? (smoke ? 2 : 20),
    files: options.files ?? (smoke ? 60 : 2000),
    mebibytes: options.mb ?? (smoke ? 2 : 30),
    largeFiles: options.largeFiles ?? (smoke ? 1 : 4),
    concurrency: options.concurrency,
    changePercent: options.changePercent,
    workloads: parseWorkloads(options.workloads ?? (smoke ? 'full' : workloads.join(','))),
    idleSeconds: options.idleSeconds ?? (smoke ? 2 : 10),
    memoryPhase: options.memoryPhase ?? !smoke,
    smallFleet: options.smallFleet ?? (smoke ? 2 : 8),
    ownTemporal: false,
    ownPool: false,
    temporalAddress: '',
    pool: '',
  };
  const startedAt = new Date();
  const loadBefore = loadavg();
  const cleanups = cleanupStack();

  try {
    // Services: a ZFS pool and a Temporal server, ours unless given.
    const pool = options.pool ?? process.env.TIDEMARK_BENCH_POOL ?? `tmbench${process.pid}`;
    config.pool = pool;
    if (!options.pool && !process.env.TIDEMARK_BENCH_POOL) {
      config.ownPool = true;
      // Sparse, so only what is written takes disk space; ZFS slows down when nearly full, so be generous.
      const copies = 5 + (config.memoryPhase ? 4 / config.hosts : 0);
      const sizeGiB = Math.ceil((config.hosts * config.mebibytes * copies * 3 + 2048) / 1024);
      await createBenchPool(pool, sizeGiB, cleanups, log, options.keep);
    }
    const datasetRoot = `${pool}/bench-${Date.now().toString(36)}`;
    await zfs(['create', '-p', datasetRoot]);
    if (!config.ownPool && !options.keep)
      cleanups.push(() => destroyWhenIdle(() => zfs(['destroy', '-r', '-f', datasetRoot])));
    const poolMountpoint = (await zfs(['get', '-H', '-o', 'value', 'mountpoint', pool])).trim();
    const mountpointOf = (dataset: string) => poolMountpoint + dataset.slice(pool.length);

    let temporal: DevServer | undefined;
    let temporalAddress = options.temporal ?? process.env.TIDEMARK_BENCH_TEMPORAL;
    if (!temporalAddress) {
      log('starting a Temporal dev server');
      temporal = await startDevServer({ port: await freePort() });
      temporalAddress = temporal.address;
      config.ownTemporal = true;
      cleanups.push(() => temporal!.stop());
    }
    config.temporalAddress = temporalAddress;
    const temporalPid = temporal?.pid ?? listeningPid(Number(temporalAddress.split(':').pop()));
    if (temporalPid === undefined)
      log(`note: no pid found for Temporal at ${temporalAddress}; its CPU will not be reported`);

    // The fleet.
    const dir = await mkdtemp('/tmp/tidemark-bench-');
    if (!options.keep) cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    log(
      `generating ${config.hosts} hosts x ${config.files} small + ${config.largeFiles} large files, ${config.mebibytes} MiB each, in ${dir}`,
    );
    const fleet = await createFleet(
      dir,
      config.hosts,
      { files: config.files, mebibytes: config.mebibytes, largeFiles: config.largeFiles },
      log,
    );
    cleanups.push(() => fleet.stop());
    const smallFleet =
      config.smallFleet > 0
        ? await createFleet(join(dir, 'small'), config.smallFleet, smallFleetShape, log, config.hosts + 1)
        : undefined;
    if (smallFleet) {
      cleanups.push(() => smallFleet.stop());
      await admitFleet(fleet, smallFleet);
    }

    const inventoryPath = join(dir, 'tidemark.yaml');
    writeFileSync(inventoryPath, inventoryYaml(fleet, smallFleet, temporalAddress, datasetRoot, config.concurrency));
    const context: DirectContext = { fleet, inventoryPath, bareServer: servers.bare, datasetRoot, mountpointOf };
    const plans = await Promise.all(fleet.hosts.map((host) => barePlan(context, host)));

    const connection = await Connection.connect({ address: temporalAddress });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    let worker: WorkerProcess | undefined = await startWorker(inventoryPath, servers.tidemark, temporalAddress);
    cleanups.push(() => worker?.stop() ?? Promise.resolve());
    log(
      `worker pid ${worker.pid} (server "${servers.tidemark}", concurrency ${config.concurrency}); Temporal ${temporalAddress} pid ${temporalPid ?? '?'}; pool ${pool}`,
    );

    const result: BenchResult = {
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: '',
      durationS: 0,
      machine: machineInfo(loadBefore),
      config,
      fleet: {
        perHost: fleet.hosts[0]!.tree,
        totalFiles: fleet.hosts.reduce((sum, host) => sum + host.tree.files, 0),
        totalMiB: fleet.hosts.reduce((sum, host) => sum + host.tree.bytes, 0) / 1024 / 1024,
      },
      runs: [],
      overhead: {},
      targets: [],
    };

    for (const workload of config.workloads) {
      if (workload === 'changed') {
        const changed = fleet.hosts.map((host) => changeFiles(host, config.changePercent, 42));
        result.fleet.filesChangedPerHost = median(changed);
        log(`changed ${median(changed)} files per host (${config.changePercent}%)`);
      }
      const record = (run: MethodRun) => {
        result.runs.push(run);
        log(
          `${workloadLabels[run.workload].padEnd(17)} ${methodLabels[run.method].padEnd(22)} wall ${(run.wallMs / 1000).toFixed(2)} s, ` +
            `host median ${(run.medianHostMs / 1000).toFixed(2)} s, ${(run.bytesReceived / 1024 / 1024).toFixed(1)} MiB received; ` +
            `bench datasets use ${run.poolUsedMiB?.toFixed(0) ?? '?'} MiB`,
        );
      };
      const direct = { temporalPid };
      const withWorker = { worker, temporalPid };
      // Every one-host-at-a-time method, interleaved host by host with the order rotating, so that each
      // method meets the pool and the machine in every state: for a first full backup the pool fills up as
      // the workload goes on, which would otherwise favour whatever ran first.
      await settle(smoke);
      {
        const perHost = {
          sown: (host: FleetHost) => runSown(context, host, workload),
          planb: (host: FleetHost) => runPlanb(context, host, workload),
          'bare-nometa': (host: FleetHost) => runBareWithoutMetadata(context, host, plans[host.index - 1]!, workload),
          bare: (host: FleetHost) => runBare(context, host, plans[host.index - 1]!),
          'tidemark-seq': (host: FleetHost) => runOne(client, servers.tidemark, sequentialName(host)),
        } satisfies Partial<Record<Method, (host: FleetHost) => Promise<HostRun>>>;
        const order = Object.keys(perHost) as (keyof typeof perHost)[];
        const hostsOf = Object.fromEntries(order.map((method) => [method, [] as HostRun[]])) as Record<
          keyof typeof perHost,
          HostRun[]
        >;
        const meters = Object.fromEntries(order.map((method) => [method, accumulator()])) as Record<
          keyof typeof perHost,
          ReturnType<typeof accumulator>
        >;
        const peak = startPeakWatch(worker.pid);
        for (const [index, host] of fleet.hosts.entries()) {
          for (let step = 0; step < order.length; step++) {
            const method = order[(index + step) % order.length]!;
            const watch = method === 'tidemark-seq' ? withWorker : direct;
            await meters[method].time(watch, async () => hostsOf[method].push(await perHost[method](host)));
          }
        }
        const peaks = peak.stop();
        const used = await poolUsedMiB(datasetRoot);
        const sum = (hosts: HostRun[]) => hosts.reduce((total, host) => total + host.ms, 0);
        for (const method of order) {
          record(
            methodRun(
              method,
              workload,
              sum(hostsOf[method]),
              hostsOf[method],
              { ...meters[method].usage(), ...(method === 'tidemark-seq' ? peaks : {}) },
              used,
            ),
          );
        }
      }
      // Tidemark with the whole fleet started at once.
      await settle(smoke);
      {
        const meter = startMeter(withWorker);
        const peak = startPeakWatch(worker.pid);
        const fleetRun = await runFleet(
          client,
          servers.tidemark,
          fleet.hosts.map((host) => host.name),
        );
        record(
          methodRun(
            'tidemark',
            workload,
            fleetRun.wallMs,
            fleetRun.hosts,
            { ...meter.stop(), ...peak.stop() },
            await poolUsedMiB(datasetRoot),
          ),
        );
      }
      const bare = findRun(result, 'bare', workload);
      const sequential = findRun(result, 'tidemark-seq', workload);
      if (bare && sequential) result.overhead[workload] = overheadFor(bare, sequential);
    }

    if (smallFleet) {
      log(`fleet comparison: ${smallFleet.hosts.length} small hosts`);
      result.smallFleet = await runSmallFleet(
        {
          fleet: smallFleet,
          direct: { ...context, fleet: smallFleet },
          client,
          server: servers.tidemark,
          inventoryPath,
          temporalAddress,
          settle: () => settle(smoke),
          log,
        },
        config.concurrency,
      );
    }

    // Idle: the worker and Temporal with nothing to do.
    await sleep(smoke ? 500 : 3_000);
    log(`measuring idle CPU for ${config.idleSeconds} s`);
    const workerBefore = processCpu(worker.pid);
    const temporalBefore = temporalPid === undefined ? undefined : processCpu(temporalPid);
    const idleStarted = performance.now();
    await sleep(config.idleSeconds * 1000);
    const idleSeconds = (performance.now() - idleStarted) / 1000;
    const workerIdle = (processCpu(worker.pid)?.self ?? NaN) - (workerBefore?.self ?? NaN);
    const temporalAfter = temporalPid === undefined ? undefined : processCpu(temporalPid);
    const temporalIdle = temporalBefore && temporalAfter ? temporalAfter.self - temporalBefore.self : undefined;
    const idleTotal = workerIdle + (temporalIdle ?? 0);
    result.idle = {
      seconds: config.idleSeconds,
      workerCpuS: workerIdle,
      temporalCpuS: temporalIdle,
      percentOfOneCore: (idleTotal / idleSeconds) * 100,
      percentOfMachine: (idleTotal / idleSeconds / result.machine.nproc) * 100,
    };

    // Memory: a fresh worker with concurrency 4 running 4 first full backups at once.
    if (config.memoryPhase) {
      await worker.stop();
      worker = await startWorker(inventoryPath, servers.memory, temporalAddress);
      await settle(smoke);
      const names = fleet.hosts.slice(0, 4).map(memoryPhaseName);
      log(`memory phase: ${names.length} first full backups on a fresh worker (pid ${worker.pid}) with concurrency 4`);
      const pid = worker.pid;
      resetPeakMemory(pid);
      const transfers = sampleMax(() => childrenNamed(pid, 'rsync').length, 300);
      const rss = sampleMax(() => processMemory(pid)?.rssMiB ?? 0, 300);
      const run = await runFleet(client, servers.memory, names);
      const maxConcurrentTransfers = transfers.stop();
      const sampledRss = rss.stop();
      result.memoryPhase = {
        concurrency: 4,
        hosts: names.length,
        wallMs: run.wallMs,
        peakMiB: Math.max(processMemory(pid)?.peakMiB ?? 0, sampledRss),
        maxConcurrentTransfers,
      };
    }

    result.machine.loadAfter = loadavg();
    result.finishedAt = new Date().toISOString();
    result.durationS = (Date.now() - startedAt.getTime()) / 1000;
    result.targets = evaluateTargets(result);

    const name = smoke ? 'smoke' : 'bench';
    mkdirSync(options.out, { recursive: true });
    const jsonPath = resultPath(options.out, name, result.startedAt);
    const pngPath = resultPath(options.out, name, result.startedAt, 'png');
    writeFileSync(jsonPath, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(pngPath, renderChart(result));
    console.log('');
    console.log(formatReport(result));
    console.log('');
    console.log(`json: ${jsonPath}`);
    console.log(`chart: ${pngPath}`);
  } finally {
    log('cleaning up');
    await cleanups.run();
  }
}

function parseWorkloads(list: string): Workload[] {
  const chosen = list
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of chosen) {
    if (!(workloads as readonly string[]).includes(item))
      throw new InvalidArgumentError(`--workloads: unknown "${item}" (known: ${workloads.join(', ')})`);
  }
  // "unchanged" and "changed" re-run what "full" copied: keep the canonical order.
  return workloads.filter((workload) => chosen.includes(workload));
}

/** Server names, unique per run so that runs sharing a Temporal server never share task queues. */
const servers = { tidemark: `bench${process.pid}`, memory: `bench${process.pid}-c4`, bare: 'bare' };

function inventoryYaml(
  fleet: Fleet,
  smallFleet: Fleet | undefined,
  temporalAddress: string,
  datasetRoot: string,
  concurrency: number,
): string {
  const hosts: Record<string, unknown> = {};
  const entryOf = (host: FleetHost) => ({
    address: host.ssh.address,
    port: host.ssh.port,
    user: 'root',
    paths: [host.source],
  });
  for (const host of fleet.hosts) {
    hosts[host.name] = entryOf(host);
    hosts[sequentialName(host)] = entryOf(host);
    if (host.index <= 4) hosts[memoryPhaseName(host)] = entryOf(host);
  }
  for (const host of smallFleet?.hosts ?? []) {
    for (const name of Object.values(smallFleetNames(host))) hosts[name] = entryOf(host);
  }
  return stringify({
    temporal: { address: temporalAddress },
    ssh: { identityFile: fleet.identityFile, knownHostsFile: fleet.knownHostsFile },
    servers: {
      [servers.tidemark]: { dataset: `${datasetRoot}/tidemark`, concurrency },
      [servers.bare]: { dataset: `${datasetRoot}/bare` },
      [servers.memory]: { dataset: `${datasetRoot}/tidemark-c4`, concurrency: 4 },
    },
    hosts,
  });
}

interface Watch {
  worker?: WorkerProcess;
  temporalPid?: number;
}

interface Reading {
  machine: number;
  foreign: Map<number, number>;
  zfs?: ProcCpu;
  worker?: ProcCpu;
  temporal?: ProcCpu;
}

interface Usage {
  machineCpuS: number;
  foreignCpuS?: number;
  zfsFuseCpuS?: number;
  workerCpuS?: number;
  workerChildCpuS?: number;
  temporalCpuS?: number;
  peakMiB?: number;
  maxConcurrentTransfers?: number;
}

function readUsage(watch: Watch): Reading {
  const zfsPid = zfsFusePid();
  return {
    machine: machineBusySeconds(),
    foreign: foreignCpuSnapshot(zfsPid === undefined ? [] : [zfsPid]),
    zfs: zfsPid === undefined ? undefined : processCpu(zfsPid),
    worker: watch.worker ? processCpu(watch.worker.pid) : undefined,
    temporal: watch.temporalPid === undefined ? undefined : processCpu(watch.temporalPid),
  };
}

/** CPU used between two readings, added up over any number of intervals. */
function accumulator() {
  const total: Usage = { machineCpuS: 0 };
  const add = (key: keyof Usage, value: number | undefined) => {
    if (value !== undefined) total[key] = (total[key] ?? 0) + value;
  };
  return {
    add(before: Reading, after: Reading) {
      total.machineCpuS += after.machine - before.machine;
      add('foreignCpuS', foreignCpuBetween(before.foreign, after.foreign));
      add('zfsFuseCpuS', before.zfs && after.zfs ? after.zfs.self - before.zfs.self : undefined);
      add('workerCpuS', before.worker && after.worker ? after.worker.self - before.worker.self : undefined);
      add(
        'workerChildCpuS',
        before.worker && after.worker ? after.worker.children - before.worker.children : undefined,
      );
      add('temporalCpuS', before.temporal && after.temporal ? after.temporal.self - before.temporal.self : undefined);
    },
    async time<T>(watch: Watch, run: () => Promise<T>): Promise<T> {
      const before = readUsage(watch);
      try {
        return await run();
      } finally {
        this.add(before, readUsage(watch));
      }
    },
    usage(): Usage {
      return { ...total };
    },
  };
}

/** CPU used from now until stop(). */
function startMeter(watch: Watch): { stop(): Usage } {
  const meter = accumulator();
  const before = readUsage(watch);
  return {
    stop() {
      meter.add(before, readUsage(watch));
      return meter.usage();
    },
  };
}

/** Worker peak RSS (VmHWM reset now) and most rsync children at once, until stop(). */
function startPeakWatch(workerPid: number): { stop(): Pick<Usage, 'peakMiB' | 'maxConcurrentTransfers'> } {
  resetPeakMemory(workerPid);
  const transfers = sampleMax(() => childrenNamed(workerPid, 'rsync').length, 500);
  return {
    stop() {
      return { maxConcurrentTransfers: transfers.stop(), peakMiB: processMemory(workerPid)?.peakMiB };
    },
  };
}

function methodRun(
  method: Method,
  workload: Workload,
  wallMs: number,
  hosts: HostRun[],
  usage: Usage,
  poolUsed: number | undefined,
): MethodRun {
  const sent = hosts.map((host) => host.bytesSent);
  return {
    method,
    workload,
    wallMs,
    hosts: hosts.map((host) => ({ ...host, ms: Math.round(host.ms * 10) / 10 })),
    medianHostMs: median(hosts.map((host) => host.ms)),
    bytesReceived: hosts.reduce((sum, host) => sum + host.bytesReceived, 0),
    bytesSent: sent.every((value) => value !== undefined) ? sent.reduce((sum, value) => sum + value!, 0) : undefined,
    machineCpuS: usage.machineCpuS,
    foreignCpuS: usage.foreignCpuS,
    zfsFuseCpuS: usage.zfsFuseCpuS,
    worker:
      usage.workerCpuS === undefined
        ? undefined
        : { cpuS: usage.workerCpuS, childCpuS: usage.workerChildCpuS, peakMiB: usage.peakMiB },
    temporal: usage.temporalCpuS === undefined ? undefined : { cpuS: usage.temporalCpuS },
    maxConcurrentTransfers: usage.maxConcurrentTransfers,
    poolUsedMiB: poolUsed,
  };
}

/** Space used by the run's datasets (copies and snapshots), MiB. */
async function poolUsedMiB(dataset: string): Promise<number | undefined> {
  const used = await zfs(['get', '-H', '-p', '-o', 'value', 'used', dataset]).catch(() => '');
  return used.trim() ? Number(used.trim()) / 1024 / 1024 : undefined;
}

/** Between methods: flush dirty pages so one method's writeback does not bill the next. */
async function settle(smoke: boolean): Promise<void> {
  await execa('sync', [], { reject: false });
  await sleep(smoke ? 200 : 1_500);
}

function machineInfo(loadBefore: number[]): BenchResult['machine'] {
  let rsync: string;
  try {
    rsync = /rsync\s+version\s+(\S+)/.exec(execaSync('rsync', ['--version']).stdout)?.[1] ?? '';
  } catch {
    rsync = '';
  }
  // loadAfter is set when the run ends.
  return { ...machineFacts(loadBefore), rsync, loadAfter: [] };
}

await runBench(main);
