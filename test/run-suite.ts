// `npm test [--tier TIER]... [FILTER]...`: runs the test files of the chosen tiers (all by default; tiers
// and what each file needs are in test/tiers.ts, never read from file names), starting only the services
// those tiers need: a Temporal dev server (workflow, integration, system), a file-backed ZFS pool
// (integration, system), a real NetBox prepared in the background (the file that needs it). FILTERs keep
// only files whose name contains one. Prints each file's wall time and a closing "N passed, N failed".
//
// Order: unit and replay files run at once, while the services start; then the workflow, integration and
// system files run concurrently (TIDEMARK_TEST_CONCURRENCY, default 3: they share the dev server and the pool
// but every test makes its own names, queues, datasets and loopback addresses); a NetBox file starts when
// the NetBox is ready; a file marked afterAll runs once every other file has ended.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../devenv/paths.js';
import { awaitNetboxPreparation, prepareNetboxInBackground } from '../devenv/netbox.js';
import { freePort } from '../worker/free-port.js';
import { startDevServer, type DevServer } from '../devenv/temporal-dev.js';
import type { FileEvent } from './helpers/file-times-reporter.js';
import { recordHistories } from './helpers/record-histories.js';
import { destroyPool, ensureFilePool, removeStalePools } from '../devenv/zfs-pool.js';
import { specOf, tiers, type TestFileSpec, type Tier } from './tiers.js';

const testDir = fileURLToPath(new URL('.', import.meta.url));
const reporter = fileURLToPath(new URL('./helpers/file-times-reporter.js', import.meta.url));

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
const timesDir = mkdtempSync('/tmp/tidemark-test-times-');
const phases: string[] = [];
let failed = false;

/** One `node --test` over `paths`; resolves when it exits. */
async function runFiles(label: string, paths: string[], concurrency: number, env: NodeJS.ProcessEnv = {}) {
  if (paths.length === 0) return;
  const phaseStarted = Date.now();
  const times = join(timesDir, `${label}.json`);
  const code = await new Promise<number>((resolve) => {
    // --test-force-exit: a file whose tests are done but that leaks a handle (a stray child) must not hang CI.
    const child = spawn(
      process.execPath,
      [
        '--test',
        `--test-concurrency=${concurrency}`,
        '--test-force-exit',
        '--test-timeout=900000',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        `--test-reporter=${reporter}`,
        '--test-reporter-destination=/dev/null',
        ...paths,
      ],
      { stdio: 'inherit', env: { ...process.env, ...env, TIDEMARK_TEST_TIMES: times } },
    );
    child.once('exit', (exitCode) => resolve(exitCode ?? 1));
    // Ctrl-C or a CI timeout: let the finally block below stop the services.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill(signal));
  });
  if (code !== 0) failed = true;
  phases.push(
    `${label}: ${paths.length} files in ${seconds(Date.now() - phaseStarted)}${code === 0 ? '' : ' (FAILED)'}`,
  );
}

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
  const withServices = (file: TestFile) => file.tier !== 'unit' && file.tier !== 'replay' && !file.afterAll;
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
rmSync(timesDir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

function report(): void {
  const all = new Map<string, { firstMs: number; lastMs: number; failed: boolean }>();
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const name of readdirSync(timesDir)) {
    for (const line of readFileSync(join(timesDir, name), 'utf8').split('\n').filter(Boolean)) {
      const event = JSON.parse(line) as FileEvent;
      const entry = all.get(event.file) ?? { firstMs: event.atMs, lastMs: event.atMs, failed: false };
      entry.lastMs = Math.max(entry.lastMs, event.atMs);
      if (event.result) counts[event.result] += 1;
      if (event.result === 'failed') entry.failed = true;
      all.set(event.file, entry);
    }
  }
  const span = (entry: { firstMs: number; lastMs: number }) => entry.lastMs - entry.firstMs;
  console.log('\nper-file wall time (first to last test event; concurrent files overlap):');
  for (const [file, entry] of [...all].sort(([, a], [, b]) => span(b) - span(a)))
    console.log(`  ${seconds(span(entry)).padStart(8)}  ${basename(file)}${entry.failed ? '  FAILED' : ''}`);
  console.log(`phases:\n  ${phases.join('\n  ')}\n  total ${seconds(Date.now() - started)}`);
  // A file that crashed outside any test fails its run without a failed test: count it as one.
  if (failed && counts.failed === 0) counts.failed = 1;
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
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
