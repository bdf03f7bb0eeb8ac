#!/usr/bin/env node
// `npm run bench:cli [-- --runs 15 --cli before=/other/checkout/dist/client/cli.js --cli after=dist/client/cli.js]`:
// what starting the `tidemark` CLI costs, verb by verb, as whole processes: wall time and CPU seconds (user + sys
// of the process and of the children it waited for, from this process's /proc cutime/cstime). The verbs:
//   --version, --help              nothing but the program definition
//   config check, hosts            a sample inventory of --hosts hosts (no NetBox)
//   snapshots --host H             reads the pool on this machine (zfs), no Temporal
//   status                         talks to Temporal (a dev server the bench starts; --no-temporal skips it)
// Each --cli (label=path, repeatable) is run in turn, verb by verb, in rotating order, so a machine that gets
// busier or quieter during the run weighs on every CLI alike. A census pass (not timed) lists the packages each
// verb loads. Prints a table; writes results/cli-start-<stamp>.json and .txt. Target: < 0.2 s for verbs
// that do not talk to Temporal.
import { elapsedLog, machineFacts, resultPath, runBench, writeResultJson } from './machine.js';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import { stringify } from 'yaml';
import { zfs } from '../pool/zfs.js';
import { projectRoot } from '../devenv/paths.js';
import { freePort } from '../worker/free-port.js';
import { startDevServer } from '../devenv/temporal-dev.js';
import { median, percentile } from './report.js';
import { cliEnvironment, cliPath } from './tidemark.js';
import { createBenchPool } from './bench-pool.js';
import { cleanupStack } from './cleanup.js';
import { processCpu } from './procstat.js';

const integer = (min: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return value;
};
const labelled = (text: string, previous: string[]) => {
  if (!/^[\w.-]+=.+/.test(text))
    throw new InvalidArgumentError('expected LABEL=PATH, e.g. before=../old/dist/client/cli.js');
  return [...previous, text];
};

interface Options {
  runs: number;
  warmup: number;
  hosts: number;
  cli: string[];
  temporal: boolean;
  out: string;
}

const program = new Command('bench:cli')
  .description('CLI start benchmark: wall and CPU seconds of tidemark verbs as whole processes')
  .option('--runs <n>', 'timed runs of each verb and CLI (median and p90 reported)', integer(1), 15)
  .option('--warmup <n>', 'untimed runs of each first (page cache, compile cache)', integer(0), 1)
  .option('--hosts <n>', 'hosts in the sample inventory', integer(1), 50)
  .option(
    '--cli <label=path>',
    'a cli.js to measure (repeatable; default this checkout\'s, as "current")',
    labelled,
    [],
  )
  .option('--no-temporal', 'skip the verb that talks to Temporal (no dev server started)')
  .option('--out <dir>', 'where the JSON and the table go', join(projectRoot, 'results'));

const log = elapsedLog();

interface Verb {
  name: string;
  args: string[];
  temporal: boolean;
}

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** CPU of the children this process has waited for, ms (clock ticks: 10 ms steps). */
const childrenCpuMs = () => (processCpu(process.pid)?.children ?? 0) * 1000;

/** Runs one CLI process to its end, output discarded; wall time from spawn to exit, CPU from the kernel's account. */
async function runOnce(
  cli: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Sample & { exitCode: number; stderr: string }> {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exitCode = await new Promise<number>((done, fail) => {
    child.once('error', fail);
    child.once('close', (code, signal) => done(code ?? (signal ? 128 : -1)));
  });
  const wallMs = performance.now() - started;
  return { wallMs, cpuMs: childrenCpuMs() - cpuBefore, exitCode, stderr };
}

/** The packages (and this project's own files) one run of the verb loads, counted by module file. */
async function census(cli: string, args: string[], env: NodeJS.ProcessEnv, dir: string) {
  const file = join(dir, `census-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const hook = new URL('./module-census.js', import.meta.url).href;
  await runOnce(cli, args, { ...env, TIDEMARK_BENCH_CENSUS: file, NODE_OPTIONS: `--import ${hook}` });
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const files = new Set(lines.map((line) => (line.startsWith('file://') ? fileURLToPath(line) : line)));
  const packages: Record<string, number> = {};
  for (const path of files) {
    if (path.includes('/bench/module-census')) continue;
    const inModules = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    const name = inModules ? inModules[1]! : '(tidemark)';
    packages[name] = (packages[name] ?? 0) + 1;
  }
  return {
    files: Object.values(packages).reduce((sum, count) => sum + count, 0),
    packages: Object.fromEntries(Object.entries(packages).sort((a, b) => b[1] - a[1])),
  };
}

async function main(): Promise<void> {
  program.parse(process.argv);
  const options = program.opts<Options>();
  const clis = (options.cli.length ? options.cli : [`current=${cliPath}`]).map((entry) => {
    const at = entry.indexOf('=');
    const path = resolve(entry.slice(at + 1));
    if (!existsSync(path))
      throw new InvalidArgumentError(`--cli ${entry}: no file ${path} (build that checkout first)`);
    return { label: entry.slice(0, at), path };
  });
  const startedAt = new Date();
  const loadBefore = loadavg();
  const cleanups = cleanupStack();
  try {
    const dir = await mkdtemp('/tmp/tidemark-cli-bench-');
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));

    const pool = `tmbench${process.pid}`;
    await createBenchPool(pool, 1, cleanups, log);
    const serverDataset = `${pool}/cli`;
    const hosts = Array.from({ length: options.hosts }, (_, index) => `host-${String(index + 1).padStart(3, '0')}`);
    const listed = hosts[0]!;
    // One host's dataset with a few Tidemark-named snapshots, for the verb that reads the pool.
    await zfs(['create', '-p', `${serverDataset}/${listed}`]);
    for (const day of ['01', '02', '03', '04', '05'])
      await zfs(['snapshot', `${serverDataset}/${listed}@tidemark-202612${day}T020000Z`]);

    let temporalAddress = '127.0.0.1:1';
    if (options.temporal) {
      log('starting a Temporal dev server');
      const temporal = await startDevServer({ port: await freePort() });
      cleanups.push(() => temporal.stop());
      temporalAddress = temporal.address;
    }
    const inventoryPath = join(dir, 'tidemark.yaml');
    writeFileSync(
      inventoryPath,
      stringify({
        temporal: { address: temporalAddress },
        servers: { clibench: { dataset: serverDataset } },
        hosts: Object.fromEntries(
          hosts.map((host, index) => [host, { address: `192.0.2.${(index % 250) + 1}`, paths: ['/etc', '/srv'] }]),
        ),
      }),
    );
    const config = ['--config', inventoryPath];
    const verbs: Verb[] = [
      { name: '--version', args: ['--version'], temporal: false },
      { name: '--help', args: ['--help'], temporal: false },
      { name: 'config check', args: [...config, 'config', 'check'], temporal: false },
      { name: 'hosts', args: [...config, 'hosts'], temporal: false },
      { name: 'snapshots', args: [...config, 'snapshots', '--host', listed], temporal: false },
      ...(options.temporal ? [{ name: 'status', args: [...config, 'status'], temporal: true }] : []),
    ];
    const env = cliEnvironment(temporalAddress);

    // Warm-up: also fixes each verb's exit code, which every timed run must repeat.
    const exitCodes: Record<string, Record<string, number>> = {};
    for (const cli of clis) {
      exitCodes[cli.label] = {};
      for (const verb of verbs) {
        for (let rep = 0; rep < Math.max(1, options.warmup); rep++) {
          const run = await runOnce(cli.path, verb.args, env);
          if (run.exitCode > 3)
            throw new Error(`${cli.label}: tidemark ${verb.args.join(' ')} exited ${run.exitCode}: ${run.stderr}`);
          exitCodes[cli.label]![verb.name] = run.exitCode;
        }
      }
    }

    const samples: Record<string, Record<string, Sample[]>> = Object.fromEntries(
      clis.map((cli) => [cli.label, Object.fromEntries(verbs.map((verb) => [verb.name, [] as Sample[]]))]),
    );
    log(`timing ${verbs.length} verbs × ${clis.length} CLI(s) × ${options.runs} runs`);
    for (let rep = 0; rep < options.runs; rep++) {
      for (const [index, verb] of verbs.entries()) {
        for (let turn = 0; turn < clis.length; turn++) {
          const cli = clis[(rep + index + turn) % clis.length]!;
          const run = await runOnce(cli.path, verb.args, env);
          if (run.exitCode !== exitCodes[cli.label]![verb.name])
            throw new Error(
              `${cli.label}: tidemark ${verb.args.join(' ')} exited ${run.exitCode}, not ${exitCodes[cli.label]![verb.name]} as before: ${run.stderr}`,
            );
          samples[cli.label]![verb.name]!.push({ wallMs: run.wallMs, cpuMs: run.cpuMs });
        }
      }
      if ((rep + 1) % 5 === 0) log(`run ${rep + 1} of ${options.runs} done, load ${loadavg()[0]!.toFixed(1)}`);
    }

    log('census of the modules each verb loads (not timed)');
    const loaded: Record<string, Record<string, Awaited<ReturnType<typeof census>>>> = {};
    for (const cli of clis) {
      loaded[cli.label] = {};
      for (const verb of verbs) loaded[cli.label]![verb.name] = await census(cli.path, verb.args, env, dir);
    }

    const round = (value: number) => Math.round(value);
    const summary = Object.fromEntries(
      clis.map((cli) => [
        cli.label,
        Object.fromEntries(
          verbs.map((verb) => {
            const list = samples[cli.label]![verb.name]!;
            const wall = list.map((sample) => sample.wallMs);
            const cpu = list.map((sample) => sample.cpuMs);
            const packages = loaded[cli.label]![verb.name]!.packages;
            return [
              verb.name,
              {
                wallMedianMs: round(median(wall)),
                wallP90Ms: round(percentile(wall, 90)),
                cpuMedianMs: round(median(cpu)),
                cpuP90Ms: round(percentile(cpu, 90)),
                exitCode: exitCodes[cli.label]![verb.name],
                modulesLoaded: loaded[cli.label]![verb.name]!.files,
                temporalClientLoaded: '@temporalio/client' in packages,
              },
            ];
          }),
        ),
      ]),
    );
    const result = {
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: machineFacts(loadBefore),
      config: { runs: options.runs, warmup: options.warmup, hosts: options.hosts, temporal: options.temporal },
      clis,
      verbs: verbs.map((verb) => ({ name: verb.name, args: verb.args, talksToTemporal: verb.temporal })),
      summary,
      modules: loaded,
      runs: samples,
    };

    const seconds = (ms: number) => (ms / 1000).toFixed(3);
    const table = [
      `tidemark CLI start, median (p90) of ${options.runs} runs; ${result.machine.nproc} cores, load ${loadBefore.map((value) => value.toFixed(1)).join(' ')} before, ${result.machine.loadAfter.map((value) => value.toFixed(1)).join(' ')} after`,
      `| verb | ${clis.map((cli) => `${cli.label}: wall s | ${cli.label}: CPU s | ${cli.label}: modules`).join(' | ')} |`,
      `| --- | ${clis.map(() => '--- | --- | ---').join(' | ')} |`,
      ...verbs.map(
        (verb) =>
          `| ${verb.name}${verb.temporal ? ' (Temporal)' : ''} | ${clis
            .map((cli) => {
              const entry = summary[cli.label]![verb.name]!;
              return `${seconds(entry.wallMedianMs)} (${seconds(entry.wallP90Ms)}) | ${seconds(entry.cpuMedianMs)} (${seconds(entry.cpuP90Ms)}) | ${entry.modulesLoaded}${entry.temporalClientLoaded ? ' +client' : ''}`;
            })
            .join(' | ')} |`,
      ),
      '',
      'modules: module files the process loaded (census run); +client: @temporalio/client among them.',
    ].join('\n');
    console.log('');
    console.log(table);
    writeResultJson(options.out, 'cli-start', result.startedAt, result);
    writeFileSync(resultPath(options.out, 'cli-start', result.startedAt, 'txt'), table + '\n');
  } finally {
    log('cleaning up');
    await cleanups.run();
  }
}

await runBench(main);
