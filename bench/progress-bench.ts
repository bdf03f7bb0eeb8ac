#!/usr/bin/env node
// `npm run bench:progress [-- --mb 100 --bwlimit 10M]`: how often `start-backup --wait` shows the copy's figures.
// Two hosts of --mb MiB each (a first full copy each, slowed by --bwlimit so that it lasts long enough to
// watch); host A is backed up without a watcher, host B with `start-backup --wait` writing to a pipe (a log,
// the sparser of the two modes). Reported: the gaps between consecutive progress lines (files, bytes, rate,
// percentage) from the first to the last, and the worker's own CPU seconds in each run (/proc), so that what a
// watcher costs the worker can be read off. Writes results/progress-bench-<stamp>.json.
import { elapsedLog, machineFacts, runBench, writeResultJson } from './machine.js';
import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { projectRoot } from '../devenv/paths.js';
import { benchTemporal } from './bench-temporal.js';
import { createBenchPool } from './bench-pool.js';
import { cleanupStack } from './cleanup.js';
import { createFleet } from './fleet.js';
import { processCpu } from './procstat.js';
import { median } from './report.js';
import { cliEnvironment, cliPath, runOne, startWorker } from './tidemark.js';

interface Options {
  mb: number;
  bwlimit: string;
  out: string;
}

const program = new Command('bench:progress')
  .description('Progress cadence of start-backup --wait during a large copy, and what the watcher costs the worker')
  .option(
    '--mb <n>',
    'MiB in each host tree',
    (text) => {
      const value = Number(text);
      if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('expected an integer >= 1');
      return value;
    },
    100,
  )
  .option('--bwlimit <rate>', "the hosts' transfer.bandwidthLimit (rsync --bwlimit)", '10M')
  .option('--out <dir>', 'where the JSON goes', join(projectRoot, 'results'));

const log = elapsedLog();

/** A --wait line with the copy's figures: "· 45% 45.0M, 3 files, 10.00MB/s". */
const progressLine = /· \d+% \S+, \d+ files, \S+\/s/;

async function main(): Promise<void> {
  program.parse(process.argv);
  const options = program.opts<Options>();
  const startedAt = new Date();
  const loadBefore = loadavg();
  const cleanups = cleanupStack();
  try {
    const pool = `tmbench${process.pid}`;
    await createBenchPool(pool, Math.ceil((options.mb * 3 + 1024) / 1024), cleanups, log);
    log('starting a Temporal dev server');
    const temporal = await benchTemporal();
    cleanups.push(() => temporal.close());
    const dir = await mkdtemp('/tmp/tidemark-progress-bench-');
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    log(`generating two hosts of ${options.mb} MiB (4 large files, 50 small ones each)`);
    const fleet = await createFleet(dir, 2, { files: 50, mebibytes: options.mb, largeFiles: 4 }, log);
    cleanups.push(() => fleet.stop());
    const [quiet, watched] = [fleet.hosts[0]!, fleet.hosts[1]!];
    const server = `pbench${process.pid}`;
    const inventoryPath = join(dir, 'tidemark.yaml');
    writeFileSync(
      inventoryPath,
      stringify({
        temporal: { address: temporal.address },
        ssh: { identityFile: fleet.identityFile, knownHostsFile: fleet.knownHostsFile },
        servers: { [server]: { dataset: `${pool}/progress` } },
        hosts: Object.fromEntries(
          fleet.hosts.map((host) => [
            host.name,
            {
              address: host.ssh.address,
              port: host.ssh.port,
              user: 'root',
              paths: [host.source],
              transfer: { bandwidthLimit: options.bwlimit },
            },
          ]),
        ),
      }),
    );
    const worker = await startWorker(inventoryPath, server, temporal.address);
    cleanups.push(() => worker.stop());
    const workerCpu = () => processCpu(worker.pid)?.self ?? 0;

    log(`backing up ${quiet.name} without a watcher`);
    let cpuBefore = workerCpu();
    const quietRun = await runOne(temporal.client, server, quiet.name);
    const quietCpu = workerCpu() - cpuBefore;
    log(`done in ${(quietRun.ms / 1000).toFixed(1)} s, worker CPU ${quietCpu.toFixed(2)} s`);

    log(`backing up ${watched.name} with start-backup --wait to a pipe`);
    cpuBefore = workerCpu();
    const started = performance.now();
    const lines: Array<{ atMs: number; text: string }> = [];
    const child = execa(
      process.execPath,
      [cliPath, '--config', inventoryPath, 'start-backup', '--host', watched.name, '--wait'],
      { env: cliEnvironment(temporal.address), reject: false, buffer: false },
    );
    let rest = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const text of parts) lines.push({ atMs: performance.now() - started, text });
    });
    const result = await child;
    const watchedMs = performance.now() - started;
    const watchedCpu = workerCpu() - cpuBefore;
    if (result.exitCode !== 0) throw new Error(`start-backup --wait exited ${result.exitCode}`);

    const progress = lines.filter((line) => progressLine.test(line.text));
    const gaps = progress.slice(1).map((line, index) => line.atMs - progress[index]!.atMs);
    const summary = {
      progressLines: progress.length,
      firstProgressAtMs: Math.round(progress[0]?.atMs ?? 0),
      lastProgressAtMs: Math.round(progress.at(-1)?.atMs ?? 0),
      gapMedianMs: gaps.length ? Math.round(median(gaps)) : undefined,
      gapMaxMs: gaps.length ? Math.round(Math.max(...gaps)) : undefined,
      gapsOver2s: gaps.filter((gap) => gap > 2_000).length,
      runWithoutWatcherMs: Math.round(quietRun.ms),
      runWithWatcherMs: Math.round(watchedMs),
      workerCpuWithoutWatcherS: Math.round(quietCpu * 100) / 100,
      workerCpuWithWatcherS: Math.round(watchedCpu * 100) / 100,
    };
    const resultJson = {
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: machineFacts(loadBefore),
      config: { mebibytes: options.mb, bwlimit: options.bwlimit },
      trees: { [quiet.name]: quiet.tree, [watched.name]: watched.tree },
      summary,
      lines: lines.map((line) => ({ atMs: Math.round(line.atMs), text: line.text })),
    };
    console.log('');
    console.log(
      `progress lines: ${summary.progressLines}, from ${(summary.firstProgressAtMs / 1000).toFixed(1)} s to ${(summary.lastProgressAtMs / 1000).toFixed(1)} s; gap median ${summary.gapMedianMs} ms, max ${summary.gapMaxMs} ms, ${summary.gapsOver2s} over 2 s`,
    );
    console.log(
      `worker CPU: ${summary.workerCpuWithoutWatcherS} s without a watcher (${(summary.runWithoutWatcherMs / 1000).toFixed(1)} s run), ${summary.workerCpuWithWatcherS} s with one (${(summary.runWithWatcherMs / 1000).toFixed(1)} s run)`,
    );
    writeResultJson(options.out, 'progress-bench', resultJson.startedAt, resultJson);
  } finally {
    log('cleaning up');
    await cleanups.run();
  }
}

await runBench(main);
