// `npm run bench:reconcile [-- --hosts 1000 --servers 2]`: how long `tidemark sync` takes for a large
// inventory against a Temporal dev server: the first sync (create everything), a sync with nothing to do,
// an edit of 1% of the hosts, and the removal of 10%. Target: under 60 s for 1,000 hosts.
// The quiet sync and the edits after it run once the server has settled (--settle seconds after the first
// sync): a dev server spends the first seconds after 2,000 creates starting their scheduler workflows, and a
// describe waits behind that (an edit right after the creates is timed too, and says so).
// Uses TIDEMARK_BENCH_TEMPORAL (host:port) when set, else starts an in-memory dev server of its own.
import { parseArgs } from 'node:util';
import { benchTemporal } from './bench-temporal.js';
import { parseInventory } from '../inventory/load.js';
import { loadHostSources } from '../inventory/sources.js';
import { desiredBackupSchedules } from '../schedule/desired.js';
import { mapLimit, reconcileSchedules } from '../schedule/reconcile.js';
import { stringify } from 'yaml';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../devenv/paths.js';
import { machineFacts, writeResultJson } from './machine.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    servers: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    settle: { type: 'string', default: '30' },
  },
});
const hostCount = Number(values.hosts);
const serverCount = Number(values.servers);
const concurrency = Number(values.concurrency);
const settleSeconds = Number(values.settle);

const temporal = await benchTemporal();
const { address, client, devServer, run } = temporal;
const servers = Array.from({ length: serverCount }, (_, i) => `bench${i + 1}-${run}`);
const taskQueue = `bench-reconcile-${run}`;

function inventoryText(hosts: Record<string, Record<string, unknown>>): string {
  return stringify({
    temporal: { address },
    servers: Object.fromEntries(servers.map((server, index) => [server, { dataset: `data${index + 1}` }])),
    sync: { enabled: false },
    defaults: { blackout: ['09:00-17:00'], timezone: 'Europe/Amsterdam' },
    hosts,
  });
}

const hosts: Record<string, Record<string, unknown>> = {};
for (let i = 0; i < hostCount; i++) {
  const kind = i % 10;
  hosts[`host${String(i).padStart(4, '0')}.example.org`] = {
    address: `10.${Math.floor(i / 65_000)}.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`,
    ...(kind === 7
      ? { schedule: 'hourly' }
      : kind === 8
        ? { schedule: { every: '6h' } }
        : kind === 9
          ? { schedule: { cron: '30 2 * * *' } }
          : {}),
  };
}

const startedAt = new Date().toISOString();
const loadBefore = loadavg();
const rows: Array<Record<string, unknown>> = [];

async function timed(
  label: string,
  work: () => Promise<{ created: number; updated: number; deleted: number; unchanged: number; errors: string[] }>,
): Promise<number> {
  const started = performance.now();
  const report = await work();
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${label.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s   created ${report.created}, updated ${report.updated}, deleted ${report.deleted}, unchanged ${report.unchanged}${report.errors.length ? `, ${report.errors.length} errors: ${report.errors[0]}` : ''}`,
  );
  rows.push({ label, seconds, ...report, errors: report.errors.length });
  return seconds;
}

async function sync(text: string, force = false) {
  const sources = await loadHostSources(parseInventory(text));
  return reconcileSchedules({ client, sources, taskQueue, concurrency, force });
}

console.log(
  `reconcile benchmark: ${hostCount} hosts × ${serverCount} servers = ${hostCount * serverCount} schedules, concurrency ${concurrency}, Temporal ${address}${devServer ? ' (own dev server)' : ''}`,
);
try {
  const planStarted = performance.now();
  const planned = desiredBackupSchedules(parseInventory(inventoryText(hosts)), taskQueue);
  console.log(
    `${'plan only (no Temporal calls)'.padEnd(34)} ${((performance.now() - planStarted) / 1000).toFixed(2).padStart(7)} s   ${planned.schedules.length} schedules`,
  );

  const first = await timed('first sync (create all)', () => sync(inventoryText(hosts)));
  const edited = (jitter: string) =>
    Object.fromEntries(
      Object.entries(hosts).map(([name, entry], i) => [name, i % 100 === 0 ? { ...entry, jitter } : entry]),
    );
  const busyEdit = await timed('edit 1% at once (server busy)', () => sync(inventoryText(edited('10m'))));
  console.log(`(letting the server settle for ${settleSeconds} s)`);
  await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
  const quiet = await timed('sync with nothing to do', () => sync(inventoryText(edited('10m'))));
  const edit = await timed('edit 1% of hosts', () => sync(inventoryText(edited('20m'))));
  const kept = Object.fromEntries(Object.entries(edited('20m')).filter((_, i) => i % 10 !== 5));
  const removal = await timed('remove 10% of hosts', () => sync(inventoryText(kept)));
  console.log(
    `total for ${hostCount} hosts: ${(first + busyEdit + quiet + edit + removal).toFixed(1)} s (first sync ${first.toFixed(1)} s; target < 60 s)`,
  );
  writeResultJson(join(projectRoot, 'results'), 'reconcile-bench', startedAt, {
    startedAt,
    hosts: hostCount,
    servers: serverCount,
    concurrency,
    settleSeconds,
    machine: machineFacts(loadBefore),
    rows,
  });
} finally {
  // Every id the run may have made (list() may lag behind the last creates).
  const ids = desiredBackupSchedules(parseInventory(inventoryText(hosts)), taskQueue).schedules.map(
    (schedule) => schedule.scheduleId,
  );
  await mapLimit(ids, concurrency, (id) =>
    client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined),
  );
  await temporal.close();
}
