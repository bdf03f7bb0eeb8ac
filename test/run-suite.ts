// `npm test`: starts what every test file shares (a Temporal dev server, a file-backed ZFS pool),
// runs all test files with Node's test runner, then stops them. Args filter test files by name.
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../devenv/paths.js';
import { prepareNetboxInBackground } from '../devenv/netbox.js';
import { freePort } from '../worker/free-port.js';
import { startDevServer } from '../devenv/temporal-dev.js';
import { recordHistories } from './helpers/record-histories.js';
import { destroyPool, ensureFilePool, removeStalePools } from '../devenv/zfs-pool.js';

const testDir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(testDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.js'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort()
  .map((file) => join(testDir, file));

// A real NetBox takes minutes to install and migrate the first time: that happens beside the other tests
// (Node's runner orders files by name, so zz-netbox-real runs last and waits for it).
const netboxLog = join(cacheDir, 'netbox', 'prepare.log');
const netboxStatus = join(cacheDir, 'netbox', `prepared-${process.pid}.json`);
const netboxPreparation = files.some((file) => file.endsWith('netbox-real.test.js'))
  ? prepareNetboxInBackground(netboxLog, netboxStatus)
  : undefined;

// Pools of earlier runs that were killed before cleaning up (their pid is gone).
await removeStalePools('tmtest', join(cacheDir, 'test'));

const pool = `tmtest${process.pid}`;
await ensureFilePool({
  name: pool,
  imageFile: join(cacheDir, 'test', `${pool}.img`),
  mountpoint: join(cacheDir, 'test', pool),
  size: '4G',
});
const temporal = await startDevServer({ port: await freePort() });
console.log(`test services: Temporal ${temporal.address}, ZFS pool ${pool}`);

// --test-force-exit: a file whose tests are done but that leaks a handle (a stray child) must not hang CI.
let code: number;
try {
  code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-concurrency=1',
        '--test-force-exit',
        // Per test and per file: the NetBox file may wait for the background preparation (25 min at most
        // on a fresh machine, measured); every other file finishes in well under 5 min.
        '--test-timeout=1800000',
        '--test-reporter=spec',
        ...files,
      ],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          TIDEMARK_TEST_TEMPORAL: temporal.address,
          TIDEMARK_TEST_POOL: pool,
          TIDEMARK_TEST_NETBOX_LOG: netboxLog,
          TIDEMARK_TEST_NETBOX_STATUS: netboxStatus,
        },
      },
    );
    child.once('exit', (exitCode) => resolve(exitCode ?? 1));
    // Ctrl-C or a CI timeout: let the finally block below stop the services.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill(signal));
  });
} finally {
  const recordTo = process.env.TIDEMARK_RECORD_HISTORIES;
  if (recordTo) console.log(`recorded ${await recordHistories(temporal.address, recordTo)} histories into ${recordTo}`);
  netboxPreparation?.stop();
  rmSync(netboxStatus, { force: true });
  await temporal.stop();
  await destroyPool(pool);
  rmSync(join(cacheDir, 'test', `${pool}.img`), { force: true });
  rmSync(join(cacheDir, 'test', pool), { recursive: true, force: true });
}
process.exit(code);
