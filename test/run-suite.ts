// `npm test [--tier TIER]... [FILTER]...`: runs the test files of the chosen tiers (all by default; tiers
// and what each file needs are in test/tiers.ts, never read from file names), starting only the services
// those tiers need: a Temporal dev server (workflow, integration, system), a file-backed ZFS pool
// (integration, system), a real NetBox prepared in the background (the file that needs it). FILTERs keep
// only files whose name contains one. Prints each file's wall time and a closing "N passed, N failed".
//
// Order: unit and replay files run at once, while the services start; then the workflow, integration and
// system files run concurrently (TIDEMARK_TEST_CONCURRENCY, default 3: they share the dev server and the pool
// but every test makes its own names, queues, datasets and loopback addresses); a NetBox file starts when
// the NetBox is ready; a file marked alone runs by itself after those, and one marked afterAll once every
// other file has ended.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../devenv/paths.js';
import { awaitNetboxPreparation, prepareNetboxInBackground } from '../devenv/netbox.js';
import { freePort } from '../worker/free-port.js';
import { startDevServer, type DevServer } from '../devenv/temporal-dev.js';
import { recordHistories } from './helpers/record-histories.js';
import { destroyPool, ensureFilePool, removeStalePools } from '../devenv/zfs-pool.js';
import { specOf, startFirst, tiers, type TestFileSpec, type Tier } from './tiers.js';

const testDir = fileURLToPath(new URL('.', import.meta.url));

const { chosenTiers, filters } = parseArgs(process.argv.slice(2));
interface TestFile extends TestFileSpec {
  path: string;
}
const files: TestFile[] = readdirSync(testDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.js'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .map((file) => ({ path: join(testDir, file), ...specOf(basename(file, '.test.js')) }))
  .filter((file) => chosenTiers.includes(file.tier));
const needs = (...wanted: Tier[]) => files.some((file) => wanted.includes(file.tier));

const started = Date.now();
const phases: string[] = [];
const fileResults: Array<{ file: string; ms: number; code: number } & Counts> = [];
let failed = false;

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Runs `paths` as separate `node --test` processes, `concurrency` at a time, longest-known first; each
 * file's output is printed whole when it ends, so concurrent files do not interleave. */
async function runFiles(label: string, paths: string[], concurrency: number, env: NodeJS.ProcessEnv = {}) {
  if (paths.length === 0) return;
  const phaseStarted = Date.now();
  const queue = [...paths].sort((a, b) => weight(b) - weight(a));
  let phaseFailed = false;
  const lane = async () => {
    for (let path = queue.shift(); path; path = queue.shift()) {
      const result = await runFile(path, env);
      if (result.code !== 0) phaseFailed = failed = true;
      fileResults.push(result);
      process.stdout.write(
        `${result.output}── ${basename(path)}: ${seconds(result.ms)}${result.code ? ' FAILED' : ''}\n\n`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, lane));
  phases.push(
    `${label}: ${paths.length} files in ${seconds(Date.now() - phaseStarted)}${phaseFailed ? ' (FAILED)' : ''}`,
  );
}

function runFile(path: string, env: NodeJS.ProcessEnv) {
  const fileStarted = Date.now();
  return new Promise<{ file: string; ms: number; code: number; output: string } & Counts>((resolve) => {
    // --test-force-exit: a file whose tests are done but that leaks a handle (a stray child) must not hang CI.
    const child = spawn(
      process.execPath,
      ['--test', '--test-force-exit', '--test-timeout=900000', '--test-reporter=spec', path],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    running.add(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('close', (exitCode) => {
      running.delete(child);
      const count = (key: string) => Number(new RegExp(`^ℹ ${key} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);
      const skipped = count('skipped') + count('todo');
      resolve({
        file: basename(path),
        ms: Date.now() - fileStarted,
        code: exitCode ?? 1,
        output,
        passed: count('pass'),
        failed: count('fail') + count('cancelled'),
        skipped,
      });
    });
  });
}

// Ctrl-C or a CI timeout: stop the files, then the finally block below stops the services.
const running = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const child of running) child.kill(signal);
  });

/** How early a file starts: its time in the last run here, else its place in startFirst. */
function weight(path: string): number {
  const name = basename(path, '.test.js');
  if (Object.keys(lastTimes).length > 0) return lastTimes[basename(path)] ?? 0;
  return startFirst.includes(name) ? startFirst.length - startFirst.indexOf(name) : 0;
}

/** Each file's wall time in the last run here (.cache/test-times.json): the longest start first. */
const timesFile = join(cacheDir, 'test-times.json');
const lastTimes = readTimes();

const pathsOf = (wanted: (file: TestFile) => boolean) => files.filter(wanted).map((file) => file.path);

// Pure files first, while the services start beside them: a broken unit test fails within a minute.
const withoutServices = runFiles(
  'unit+replay',
  pathsOf((file) => file.tier === 'unit' || file.tier === 'replay'),
  2,
);

const netboxLog = join(cacheDir, 'netbox', 'prepare.log');
const netboxStatus = join(cacheDir, 'netbox', `prepared-${process.pid}.json`);
const netboxPreparation = files.some((file) => file.needsNetbox)
  ? prepareNetboxInBackground(netboxLog, netboxStatus)
  : undefined;

const pool = `tmtest${process.pid}`;
let temporal: DevServer | undefined;
let poolMade = false;
try {
  if (needs('integration', 'system')) {
    // Pools of earlier runs that were killed before cleaning up (their pid is gone).
    await removeStalePools('tmtest', join(cacheDir, 'test'));
    await ensureFilePool({
      name: pool,
      imageFile: join(cacheDir, 'test', `${pool}.img`),
      mountpoint: join(cacheDir, 'test', pool),
      size: '4G',
    });
    poolMade = true;
  }
  if (needs('workflow', 'integration', 'system')) temporal = await startDevServer({ port: await freePort() });
  if (temporal) console.log(`test services: Temporal ${temporal.address}${poolMade ? `, ZFS pool ${pool}` : ''}`);
  const env = {
    ...(temporal ? { TIDEMARK_TEST_TEMPORAL: temporal.address } : {}),
    ...(poolMade ? { TIDEMARK_TEST_POOL: pool } : {}),
    TIDEMARK_TEST_NETBOX_LOG: netboxLog,
    TIDEMARK_TEST_NETBOX_STATUS: netboxStatus,
  };
  const concurrency = Number(process.env.TIDEMARK_TEST_CONCURRENCY ?? 3);
  const withServices = (file: TestFile) =>
    file.tier !== 'unit' && file.tier !== 'replay' && !file.afterAll && !file.alone;
  await Promise.all([
    withoutServices,
    runFiles(
      'services',
      pathsOf((file) => withServices(file) && !file.needsNetbox),
      concurrency,
      env,
    ),
    (async () => {
      const paths = pathsOf((file) => withServices(file) && file.needsNetbox === true);
      if (paths.length === 0) return;
      // The file's own before() reports a failed preparation with the log's end.
      await awaitNetboxPreparation(netboxLog, netboxStatus, 30 * 60_000).catch(() => undefined);
      phases.push(`NetBox prepared after ${seconds(Date.now() - started)}`);
      await runFiles('netbox', paths, 1, env);
    })(),
  ]);
  await runFiles(
    'alone',
    pathsOf((file) => file.alone === true),
    1,
    env,
  );
  await runFiles(
    'after-all',
    pathsOf((file) => file.afterAll === true),
    1,
    env,
  );
} finally {
  const recordTo = process.env.TIDEMARK_RECORD_HISTORIES;
  if (recordTo && temporal)
    console.log(`recorded ${await recordHistories(temporal.address, recordTo)} histories into ${recordTo}`);
  netboxPreparation?.stop();
  rmSync(netboxStatus, { force: true });
  await temporal?.stop();
  if (poolMade) {
    await destroyPool(pool);
    rmSync(join(cacheDir, 'test', `${pool}.img`), { force: true });
    rmSync(join(cacheDir, 'test', pool), { recursive: true, force: true });
  }
}
await withoutServices;
report();
process.exit(failed ? 1 : 0);

function report(): void {
  console.log('per-file wall time:');
  for (const result of [...fileResults].sort((a, b) => b.ms - a.ms))
    console.log(`  ${seconds(result.ms).padStart(8)}  ${result.file}${result.code ? '  FAILED' : ''}`);
  console.log(`phases:\n  ${phases.join('\n  ')}\n  total ${seconds(Date.now() - started)}`);
  const sum = (key: keyof Counts) => fileResults.reduce((total, result) => total + result[key], 0);
  // A file that crashed outside any test fails without a failed test: count it as one.
  const failures = sum('failed') + fileResults.filter((result) => result.code !== 0 && result.failed === 0).length;
  console.log(`${sum('passed')} passed, ${failures} failed, ${sum('skipped')} skipped`);
  if (filters.length === 0) {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(
      timesFile,
      JSON.stringify({ ...lastTimes, ...Object.fromEntries(fileResults.map((r) => [r.file, r.ms])) }),
    );
  }
}

function readTimes(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(timesFile, 'utf8')) as Record<string, number>;
  } catch {
    // A fresh clone: the static order below.
    return {};
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function parseArgs(args: string[]): { chosenTiers: Tier[]; filters: string[] } {
  const chosen: Tier[] = [];
  const rest: string[] = [];
  for (let index = 0; index < args.length; index++) {
    if (args[index] !== '--tier') {
      rest.push(args[index]!);
      continue;
    }
    const tier = args[++index] as Tier;
    if (!tiers.includes(tier)) throw new Error(`--tier ${tier}: expected one of ${tiers.join(', ')}`);
    chosen.push(tier);
  }
  return { chosenTiers: chosen.length > 0 ? chosen : [...tiers], filters: rest };
}
