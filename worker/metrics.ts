// Prometheus metrics of a backup server's worker, on one endpoint (`worker --metrics 127.0.0.1:9464` or
// `servers.<name>.metrics`; off by default), built with prom-client: Tidemark's own gauges per host, the
// process and Node.js metrics (process_*, nodejs_*), then the Temporal SDK's metrics (its exporter listens
// on a private loopback port; each scrape fetches and appends them).
//
// Per (host, server), from the state file the notify step writes after every run:
//   tidemark_last_success_timestamp_seconds, tidemark_last_run_timestamp_seconds,
//   tidemark_last_status (0 ok, 1 warning or cancelled, 2 failed),
//   tidemark_transferred_bytes, tidemark_transferred_files, tidemark_duration_seconds (last run),
//   tidemark_last_drill_timestamp_seconds and tidemark_last_drill_status (last scheduled restore drill);
// from zfs at scrape time (cached 15 s unless a run ended since): tidemark_snapshots,
// tidemark_dataset_used_bytes, and on a replication target per (host, server, source)
// tidemark_replica_lag_seconds and tidemark_replica_sent_bytes (docs/how-to/off-site-copies.md); per pool:
// tidemark_pool_free_bytes, tidemark_pool_healthy. Only hosts of
// the worker's inventory are shown: a host removed from it stops alerting.
import { createServer, type Server } from 'node:http';
import type { RuntimeOptions } from '@temporalio/worker';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { request } from 'undici';
import { readPoolState, type PoolState } from '../pool/space.js';
import { getToDepth } from '../pool/zfs.js';
import { replicaSentProperty } from '../pool/replication.js';
import { replicaOriginProperty } from '../domain/replication.js';
import { parseSnapshotName } from '../domain/names.js';
import { statusCode } from '../domain/notify.js';
import { loadState, type DrillRecord, type HostState } from '../notify/state.js';
import { tidemarkLog } from './log.js';
import { freePort } from './free-port.js';

/** What zfs says of one host dataset; `replica` when this server takes its copy by replication. */
export interface DatasetFigures {
  snapshots: number;
  usedBytes: number;
  replica?: ReplicaFigures;
}

/** From the replica's user properties (pool/replication.ts): its source, the newest snapshot received from it,
 * the bytes the newest replication sent. */
export interface ReplicaFigures {
  source: string;
  newest?: string;
  sentBytes?: number;
}

export interface HostMetrics {
  host: string;
  server: string;
  state?: HostState;
  zfs?: DatasetFigures;
  /** The newest scheduled restore drill (activities/restore-drill.ts). */
  drill?: DrillRecord;
}

const hostFamilies: { name: string; help: string; value: (entry: HostMetrics) => number | undefined }[] = [
  {
    name: 'tidemark_last_success_timestamp_seconds',
    help: 'Unix time the last backup with status SUCCESS finished.',
    value: (e) => seconds(e.state?.lastSuccessAt),
  },
  {
    name: 'tidemark_last_run_timestamp_seconds',
    help: 'Unix time the last backup run finished, whatever its status.',
    value: (e) => seconds(e.state?.last.finishedAt),
  },
  // A run escalated by the partial streak was reported as FAILED everywhere else: here too.
  {
    name: 'tidemark_last_status',
    help: 'Status of the last run: 0 ok, 1 warning (or cancelled), 2 failed (or the partial-run limit reached).',
    value: (e) => (e.state ? (e.state.last.escalation ? 2 : statusCode(e.state.last.status)) : undefined),
  },
  {
    name: 'tidemark_transferred_bytes',
    help: 'File data sent by the last run (rsync total transferred file size).',
    value: (e) => e.state?.last.bytesTransferred,
  },
  {
    name: 'tidemark_transferred_files',
    help: 'Regular files whose data the last run sent.',
    value: (e) => e.state?.last.filesTransferred,
  },
  {
    name: 'tidemark_duration_seconds',
    help: 'Duration of the last run.',
    value: (e) => (e.state ? e.state.last.durationMs / 1000 : undefined),
  },
  {
    name: 'tidemark_last_drill_timestamp_seconds',
    help: 'Unix time the last scheduled restore drill finished.',
    value: (e) => seconds(e.drill?.finishedAt),
  },
  {
    name: 'tidemark_last_drill_status',
    help: 'Status of the last scheduled restore drill: 0 passed, 1 warning (nothing could be compared), 2 failed.',
    value: (e) => (e.drill ? statusCode(e.drill.status) : undefined),
  },
  {
    name: 'tidemark_snapshots',
    help: "Snapshots of the host's dataset (all names, Tidemark's and others).",
    value: (e) => e.zfs?.snapshots,
  },
  {
    name: 'tidemark_dataset_used_bytes',
    help: "Space used by the host's dataset and its snapshots (zfs used).",
    value: (e) => e.zfs?.usedBytes,
  },
];

/** Tidemark's gauges for one scrape, in a registry of their own (a scrape never sees another's values). */
export function tidemarkRegistry(hosts: HostMetrics[], zfsUp = true, pool?: PoolState, now = Date.now()): Registry {
  const registry = new Registry();
  for (const family of hostFamilies) {
    const gauge = new Gauge({
      name: family.name,
      help: family.help,
      labelNames: ['host', 'server'] as const,
      registers: [registry],
    });
    for (const entry of hosts) {
      const value = family.value(entry);
      if (value !== undefined && Number.isFinite(value)) gauge.set({ host: entry.host, server: entry.server }, value);
    }
  }
  replicaGauges(registry, hosts, now);
  new Gauge({
    name: 'tidemark_zfs_up',
    help: '1 when the last zfs query for the dataset figures worked.',
    registers: [registry],
  }).set(zfsUp ? 1 : 0);
  if (pool) {
    new Gauge({
      name: 'tidemark_pool_free_bytes',
      help: 'Bytes the server dataset can still take (pool free space and quotas).',
      labelNames: ['pool'] as const,
      registers: [registry],
    }).set({ pool: pool.pool }, pool.availableBytes);
    new Gauge({
      name: 'tidemark_pool_healthy',
      help: '1 when zpool reports the pool ONLINE; the health label says what it is.',
      labelNames: ['pool', 'health'] as const,
      registers: [registry],
    }).set({ pool: pool.pool, health: pool.health }, pool.health === 'ONLINE' ? 1 : 0);
  }
  return registry;
}

/** Per replica (host, server, source): the lag, age of the newest snapshot replicated here (from its name, as
 * `tidemark status` judges it), and the bytes the newest replication sent. */
function replicaGauges(registry: Registry, hosts: HostMetrics[], now: number): void {
  const labelNames = ['host', 'server', 'source'] as const;
  const lag = new Gauge({
    name: 'tidemark_replica_lag_seconds',
    help: 'Age of the newest snapshot replicated to this server (the time in its name); absent before the first.',
    labelNames,
    registers: [registry],
  });
  const sent = new Gauge({
    name: 'tidemark_replica_sent_bytes',
    help: 'Bytes the newest replication of the host to this server sent (zfs send stream).',
    labelNames,
    registers: [registry],
  });
  for (const entry of hosts) {
    const replica = entry.zfs?.replica;
    if (!replica) continue;
    const labels = { host: entry.host, server: entry.server, source: replica.source };
    const takenAt = replica.newest ? parseSnapshotName(replica.newest)?.takenAt.getTime() : undefined;
    if (takenAt !== undefined) lag.set(labels, Math.max(0, (now - takenAt) / 1000));
    if (replica.sentBytes !== undefined) sent.set(labels, replica.sentBytes);
  }
}

/** Prometheus text exposition (version 0.0.4) of Tidemark's gauges. */
export function renderMetrics(hosts: HostMetrics[], zfsUp = true, pool?: PoolState, now = Date.now()): Promise<string> {
  return tidemarkRegistry(hosts, zfsUp, pool, now).metrics();
}

function seconds(iso: string | undefined): number | undefined {
  return iso ? Date.parse(iso) / 1000 : undefined;
}

/** Snapshot count and used bytes of each host dataset under the server's dataset, and what its replica
 * properties say (one zfs call). */
export async function datasetFigures(serverDataset: string): Promise<Map<string, DatasetFigures>> {
  const rows = await getToDepth(serverDataset, ['used', replicaOriginProperty, replicaSentProperty], 2);
  const figures = new Map<string, DatasetFigures>();
  /** Per dataset, the replica properties set on it (and on its snapshots) here, not inherited. */
  const replicas = new Map<string, { source?: string; newest?: string; sentBytes?: number }>();
  const prefix = `${serverDataset}/`;
  for (const { name, property, value, source } of rows) {
    if (!name.startsWith(prefix)) continue;
    const [dataset = '', snapshot] = name.slice(prefix.length).split('@');
    if (dataset.includes('/')) continue;
    const entry = figures.get(dataset) ?? { snapshots: 0, usedBytes: 0 };
    figures.set(dataset, entry);
    if (property === 'used') {
      if (snapshot === undefined) entry.usedBytes = Number(value);
      else entry.snapshots += 1;
      continue;
    }
    if (source !== 'local' || value === '-') continue;
    const replica = replicas.get(dataset) ?? {};
    replicas.set(dataset, replica);
    if (property === replicaSentProperty && snapshot === undefined && /^\d+$/.test(value))
      replica.sentBytes = Number(value);
    else if (property === replicaOriginProperty && snapshot === undefined) replica.source = value;
    else if (
      property === replicaOriginProperty &&
      (!replica.newest || snapshotTime(snapshot!) > snapshotTime(replica.newest))
    )
      replica.newest = snapshot!;
  }
  // A dataset is a replica when its own origin says so (the source's datasets carry none).
  for (const [dataset, { source, ...rest }] of replicas)
    if (source !== undefined) figures.get(dataset)!.replica = { source, ...rest };
  return figures;
}

function snapshotTime(name: string): number {
  return parseSnapshotName(name)?.takenAt.getTime() ?? Number.NEGATIVE_INFINITY;
}

export interface MetricsServerOptions {
  /** "127.0.0.1:9464" */
  listen: string;
  server: string;
  stateFile: string;
  /** The server's dataset (host datasets are its children). */
  serverDataset: string;
  /** The SDK exporter's URL, appended to every scrape. */
  sdkMetricsUrl?: string;
  /** The hosts of the worker's inventory, read at each scrape; others are left off the page (absent: all). */
  inventoryHosts?: () => Promise<ReadonlySet<string> | undefined>;
  /** Where a damaged or unreadable state file is reported (default: the worker's log, at WARN). */
  warn?: (message: string) => void;
}

/** Serves GET /metrics; resolves once listening. */
export async function startMetricsServer(
  options: MetricsServerOptions,
): Promise<{ url: string; close: () => Promise<void> }> {
  // zfs figures are cached 15 s, and refreshed at once when a run has been recorded since.
  let cached: { at: number; runs: string; figures: Map<string, DatasetFigures> } | undefined;
  const zfsFigures = async (runs: string) => {
    if (!cached || cached.runs !== runs || Date.now() - cached.at > 15_000) {
      cached = { at: Date.now(), runs, figures: await datasetFigures(options.serverDataset) };
    }
    return cached.figures;
  };

  // A damaged or unreadable state file scrapes as empty (the next run rewrites it); each new problem is
  // logged once, not on every scrape.
  const warn = options.warn ?? ((message: string) => tidemarkLog().warn({ stateFile: options.stateFile }, message));
  let reported: string | undefined;
  const readState = async () => {
    const loaded = await loadState(options.stateFile).catch((error: Error) => ({
      state: undefined,
      damaged: `unreadable (${error.message})`,
    }));
    if (loaded.damaged && loaded.damaged !== reported)
      warn(
        `tidemark metrics: state file ${options.stateFile} is ${loaded.damaged}; its hosts are left out until the next run rewrites it`,
      );
    reported = loaded.damaged;
    return loaded.state;
  };

  // process_* and nodejs_* (CPU, memory, handles, event loop lag, GC): kept for the server's lifetime.
  const processMetrics = new Registry();
  collectDefaultMetrics({ register: processMetrics });
  // Gauges named like counters, which Prometheus' lint refuses; each is the sum of the same name
  // without _total (labelled by type), which stays.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    processMetrics.removeSingleMetric(name);

  const scrape = async (): Promise<string> => {
    const state = await readState();
    let zfsUp = true;
    const runs = Object.values(state?.hosts ?? {})
      .map((entry) => entry.last.runId)
      .join(',');
    const figures = await zfsFigures(runs).catch(() => {
      zfsUp = false;
      return new Map<string, DatasetFigures>();
    });
    const hosts = new Map<string, HostMetrics>();
    for (const entry of Object.values(state?.hosts ?? {})) {
      if (entry.server === options.server)
        hosts.set(entry.host, { host: entry.host, server: entry.server, state: entry });
    }
    for (const drill of Object.values(state?.drills ?? {}))
      if (drill.server === options.server)
        hosts.set(drill.host, { ...(hosts.get(drill.host) ?? { host: drill.host, server: drill.server }), drill });
    for (const [host, zfsEntry] of figures)
      hosts.set(host, { ...(hosts.get(host) ?? { host, server: options.server }), zfs: zfsEntry });
    const inInventory = await options.inventoryHosts?.().catch(() => undefined);
    const pool = await readPoolState(options.serverDataset).catch(() => undefined);
    let text = await renderMetrics(
      [...hosts.values()]
        .filter((entry) => !inInventory || inInventory.has(entry.host))
        .sort((a, b) => a.host.localeCompare(b.host)),
      zfsUp,
      pool,
    );
    text += await processMetrics.metrics();
    if (options.sdkMetricsUrl) {
      try {
        const response = await request(options.sdkMetricsUrl, { headersTimeout: 3_000, bodyTimeout: 3_000 });
        text += `${await response.body.text()}\n`;
      } catch (error) {
        text += `# Temporal SDK metrics unavailable: ${(error as Error).message.replace(/\n/g, ' ')}\n`;
      }
    }
    return text;
  };

  const http: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
      return;
    }
    scrape().then(
      (text) => res.writeHead(200, { 'content-type': processMetrics.contentType }).end(text),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  const { host, port } = parseListen(options.listen);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
  // The port bound, which differs from the one asked for when that was 0.
  const bound = (http.address() as { port: number }).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise((resolve) => {
        processMetrics.clear();
        http.close(() => resolve());
      }),
  };
}

/** "127.0.0.1:9464", "[::1]:9464" or a bare port (loopback). */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen) ?? /^()()(\d{1,5})$/.exec(listen);
  if (!match) throw new Error(`metrics address "${listen}": expected host:port, e.g. 127.0.0.1:9464`);
  return { host: match[1] || match[2] || '127.0.0.1', port: Number(match[3]) };
}

/** Runtime telemetry for the SDK's exporter and a starter for the endpoint; nothing when metrics are off. */
export async function prepareMetrics(listen: string | undefined): Promise<{
  telemetryOptions?: RuntimeOptions['telemetryOptions'];
  start: (
    options: Omit<MetricsServerOptions, 'listen' | 'sdkMetricsUrl'>,
  ) => Promise<{ url: string; close: () => Promise<void> } | undefined>;
}> {
  if (!listen) return { start: async () => undefined };
  parseListen(listen);
  const sdkAddress = `127.0.0.1:${await freePort()}`;
  return {
    // Names Prometheus' own lint accepts: counters end in _total, histograms carry their unit, in seconds.
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: sdkAddress,
          countersTotalSuffix: true,
          unitSuffix: true,
          useSecondsForDurations: true,
        },
      },
    },
    start: (options) => startMetricsServer({ ...options, listen, sdkMetricsUrl: `http://${sdkAddress}/metrics` }),
  };
}
