// `npm run bench:netbox [-- --objects 5000 --page 1000]`: NetBox at fleet scale, against the real NetBox of
// the test suite (devenv/netbox.ts; no stand-in). Fills it once through the REST bulk API (half devices, half
// virtual machines, all tagged; the fill is timed and reported), then times what reads NetBox:
//   - one paged fetch (what every verb of one process shares),
//   - `tidemark hosts` and `tidemark sync --dry-run` as processes (fetch, merge, validate; sync also lists
//     the schedules of a Temporal dev server),
//   - a planned run's host resolution (inventory/host-lookup.ts): first in a process, then reusing the answer,
//     then with NetBox stopped (the kept answer on disk).
// Writes results/netbox-<time>.json. Uses TIDEMARK_BENCH_TEMPORAL when set, else its own dev server.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { createObjectParents, startNetbox } from '../devenv/netbox.js';
import { projectRoot } from '../devenv/paths.js';
import { inventoryWithHosts } from '../inventory/host-lookup.js';
import { parseInventory } from '../inventory/load.js';
import { fetchNetboxHosts, resolveNetboxConfig } from '../inventory/netbox.js';
import { benchTemporal } from './bench-temporal.js';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '5000' },
    page: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '100' },
  },
});
const objectCount = Number(values.objects);
const pageSize = Number(values.page);
const batch = Number(values.batch);
const cli = fileURLToPath(new URL('../client/cli.js', import.meta.url));

async function seconds<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { seconds: (performance.now() - started) / 1000, value };
}

const figures: Record<string, number | string> = { objects: objectCount, pageSize };
const say = (label: string, value: number, extra = '') => {
  figures[label] = Number(value.toFixed(2));
  console.log(`${label.padEnd(44)} ${value.toFixed(2).padStart(8)} s${extra ? `   ${extra}` : ''}`);
};

const netbox = await startNetbox({ maxPageSize: pageSize });
const temporal = await benchTemporal();
try {
  const dir = await mkdtemp('/tmp/tidemark-nbbench-');
  const tokenFile = join(dir, 'netbox-token');
  await writeFile(tokenFile, `${netbox.token}\n`, { mode: 0o600 });
  const api = netbox.api;

  const fillStarted = performance.now();
  // gunicorn gives a request 120 s: batches of 100 stay well inside it on a busy 2-core machine.
  const progress = (done: number) =>
    console.log(`  filled ${done}/${objectCount} after ${((performance.now() - fillStarted) / 1000).toFixed(0)} s`);
  const fill = await seconds(async () => {
    await api('POST', '/api/extras/tags/', { name: 'Backup', slug: 'backup' });
    const parents = await createObjectParents(api);
    const tags = [{ slug: 'backup' }];
    const devices = Math.ceil(objectCount / 2);
    for (let start = 0; start < devices; start += batch) {
      const objects = Array.from({ length: Math.min(batch, devices - start) }, (_, i) => ({
        name: `dev-${String(start + i).padStart(5, '0')}`,
        site: parents.site,
        device_type: parents.deviceType,
        role: parents.role,
        tags,
      }));
      await api('POST', '/api/dcim/devices/', objects);
      progress(start + objects.length);
    }
    const machines = objectCount - devices;
    for (let start = 0; start < machines; start += batch) {
      const objects = Array.from({ length: Math.min(batch, machines - start) }, (_, i) => ({
        name: `vm-${String(start + i).padStart(5, '0')}`,
        cluster: parents.cluster,
        tags,
      }));
      await api('POST', '/api/virtualization/virtual-machines/', objects);
      progress(devices + start + objects.length);
    }
  });
  say('fill NetBox through the REST bulk API', fill.seconds, `${objectCount} objects in batches of ${batch}`);

  const inventoryPath = join(dir, 'tidemark.yaml');
  const inventoryObject = {
    temporal: { address: temporal.address },
    servers: { [`nb1-${temporal.run}`]: { dataset: 'data1', stateFile: join(dir, 'state.json') } },
    sync: { enabled: false },
    netbox: { url: netbox.url, tokenFile },
    hosts: {},
  };
  await writeFile(inventoryPath, stringify(inventoryObject));
  const inventory = parseInventory(stringify(inventoryObject));

  const fetch = await seconds(() => fetchNetboxHosts(resolveNetboxConfig(inventory.netbox!)));
  say('one paged fetch (in process)', fetch.seconds, `${fetch.value.hosts.length} hosts, pages of ${pageSize}`);

  const run = (args: string[]) =>
    seconds(() => execa(process.execPath, [cli, '--config', inventoryPath, ...args], { cwd: projectRoot }));
  const hosts = await run(['hosts']);
  say('tidemark hosts (process)', hosts.seconds, `${hosts.value.stdout.split('\n').length - 1} pairs`);
  const sync = await run(['sync', '--dry-run']);
  say('tidemark sync --dry-run (process)', sync.seconds, sync.value.stdout.split('\n').at(-1) ?? '');

  const target = `vm-${String(objectCount - Math.ceil(objectCount / 2) - 1).padStart(5, '0')}`;
  const first = await seconds(() => inventoryWithHosts(inventory, [target]));
  say('planned run host resolution, first in process', first.seconds, target);
  const again = await seconds(() => inventoryWithHosts(inventory, [target]));
  say('planned run host resolution, answer reused', again.seconds);
  await netbox.stop();
  const down = await seconds(() =>
    inventoryWithHosts({ ...inventory, netbox: { ...inventory.netbox!, timeout: '5s' } }, [target]),
  );
  say(
    'planned run host resolution, NetBox down (kept answer)',
    down.seconds,
    down.value.warnings[0]?.slice(0, 60) ?? '',
  );

  const file = join(projectRoot, 'results', `netbox-${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}.json`);
  await writeFile(file, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`wrote ${file}`);
} finally {
  await netbox.stop().catch(() => undefined);
  await temporal.close();
}
