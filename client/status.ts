// `tidemark status [--host H] [--server S] [--stale DURATION] [--json] [--nagios]`: the last run and the
// last success of every (host, server) pair of the inventory, read from Temporal visibility (the runs'
// search attributes), so it works from any machine with the inventory. Exit code in Nagios terms.
// On a backup server it also lists the host datasets there that no pair backs up any more (orphans,
// decommissioned); they are listed only and never change the exit code.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { parseDuration, formatDuration } from '../domain/duration.js';
import { TidemarkError } from '../domain/errors.js';
import {
  bytesAttribute,
  hostAttribute,
  runStatuses,
  serverAttribute,
  statusAttribute,
  type RunStatus,
} from '../domain/search-attributes.js';
import type { Inventory } from '../inventory/schema.js';
import { resolveHost, resolveSchedule, resolveStaleness, resolveTemporal } from '../inventory/resolve.js';
import { intervalMs } from '../inventory/inventory-checks.js';
import { backupScheduleId } from '../schedule/desired.js';
import { listOwnedSchedules } from '../schedule/reconcile.js';
import { loadHostSources } from '../inventory/sources.js';
import { hostServerPairs, type HostServerPair } from './hosts.js';
import { findLeftovers, type LeftoverDataset, type Leftovers } from './leftovers.js';
import { formatBytes } from './snapshots.js';
import {
  defaultStaleness,
  fleetVerdict,
  judgePair,
  nagiosLine,
  verdictExitCode,
  type PairStatus,
  type RunRecord,
} from './fleet-verdict.js';
import { connectClient } from '../inventory/temporal-connection.js';
import { hostsOfGroup } from '../inventory/groups.js';

export interface StatusOptions {
  host?: string;
  server?: string;
  /** Only the hosts of this group (`groups:`). */
  group?: string;
  stale?: string;
  json: boolean;
  nagios: boolean;
}

/** Recent runs looked at per pair; the newest SUCCESS is fetched separately when none is among them. */
const recentRuns = 10;
/** Pairs queried at once: 200 hosts × 2 servers stay a few seconds without flooding the frontend. */
const parallelPairs = 8;

export async function fleetStatus(inventory: Inventory, options: StatusOptions): Promise<number> {
  const staleMs = options.stale === undefined ? undefined : parseDuration(options.stale);
  if (options.stale !== undefined && !staleMs)
    throw new TidemarkError('USAGE', `--stale: "${options.stale}" is not a duration; write e.g. 36h, 2d or 90m`);
  const { inventory: merged, outage } = await loadHostSources(inventory, process.env, { useKept: true });
  for (const line of outage ?? []) console.error(`tidemark: WARNING: ${line}`);
  const host = options.host === undefined ? undefined : resolveHost(merged, options.host).host;
  const inGroup = options.group === undefined ? undefined : hostsOfGroup(merged, options.group);
  const pairs = hostServerPairs(merged, options.server).filter(
    (pair) => (host === undefined || pair.host === host) && (inGroup === undefined || inGroup.has(pair.host)),
  );
  if (pairs.length === 0)
    throw new TidemarkError(
      'USAGE',
      inGroup === undefined
        ? `--host ${options.host} is not backed up on --server ${options.server}`
        : `--group ${options.group}: no host of this group${options.host ? ` is ${options.host}` : ''}${options.server ? ` backed up on ${options.server}` : ''}`,
    );

  const settings = resolveTemporal(merged);
  const client = await connectClient(settings);
  let rows: PairStatus[];
  try {
    const now = new Date();
    const { paused, firstDue } = await scheduleStates(client);
    const intervals = new Map(
      pairs.map((pair) => [pair.host, intervalMs(resolveSchedule(merged, pair.host).schedule)]),
    );
    const lookbackMs = Math.max(
      minimumLookbackMs,
      staleMs ?? 0,
      ...pairs.map(
        (pair) =>
          (intervals.get(pair.host) ?? 0) *
          (resolveStaleness(merged, pair.host, pair.server).criticalAfter ?? defaultStaleness.criticalAfter),
      ),
    );
    const recent = await recentRunsOfFleet(client, pairs, new Date(now.getTime() - lookbackMs), options.server);
    rows = await mapLimited(pairs, parallelPairs, async (pair) => {
      const seen = recent.get(pairKey(pair)) ?? [];
      // A pair without a success in the window is asked on its own (older runs, or proof of "never").
      const found = seen.some((run) => run.status === 'SUCCESS') ? { runs: seen } : await pairRuns(client, pair);
      const interval = intervals.get(pair.host);
      const note = paused.get(backupScheduleId(pair.host, pair.server));
      const firstDueAt = firstDue.get(backupScheduleId(pair.host, pair.server));
      const failure = await failureOfNewest(client, found.runs);
      return judgePair({
        ...pair,
        ...found,
        now,
        ...(staleMs ? { staleMs } : {}),
        ...(interval !== undefined ? { expectedIntervalMs: interval } : {}),
        ...resolveStaleness(merged, pair.host, pair.server),
        ...(note !== undefined ? { paused: note } : {}),
        ...(firstDueAt !== undefined ? { firstDueAt } : {}),
        ...(failure !== undefined ? { failure } : {}),
      });
    });
  } finally {
    await client.connection.close();
  }
  if (options.nagios) {
    console.log(nagiosLine(rows, staleMs));
    return verdictExitCode[fleetVerdict(rows)];
  }
  const leftovers = await localLeftovers(merged, options.server, host);
  if (options.json) console.log(JSON.stringify([...rows, ...leftoverRows(leftovers)], null, 2));
  else console.log([statusTable(rows), ...leftoverTables(leftovers)].join('\n\n'));
  return verdictExitCode[fleetVerdict(rows)];
}

/** Leftover datasets as rows of the same array as the pairs (scripts read one list): lastStatus says which. */
function leftoverRows(leftovers: Leftovers) {
  const row = (entry: Leftovers['orphans'][number], lastStatus: 'ORPHAN' | 'DECOMMISSIONED') => ({
    ...entry,
    lastStatus,
    lastRunAt: null,
    lastSuccessAt: null,
  });
  return [
    ...leftovers.orphans.map((entry) => row(entry, 'ORPHAN')),
    ...leftovers.decommissioned.map((entry) => row(entry, 'DECOMMISSIONED')),
  ];
}

/** Leftover datasets of the inventory's servers (or `server`) on this machine; of `host` only when given. */
async function localLeftovers(
  inventory: Inventory,
  server: string | undefined,
  host: string | undefined,
): Promise<Leftovers> {
  const servers = Object.fromEntries(
    Object.entries(inventory.servers)
      .filter(([name]) => server === undefined || name === server)
      .map(([name, entry]) => [name, entry.dataset]),
  );
  let found: Leftovers;
  try {
    found = await findLeftovers(servers, hostServerPairs(inventory));
  } catch (error) {
    // The fleet's runs are the point of status: a pool that cannot be read is said, not fatal.
    console.error(`tidemark: WARNING: could not list this machine's host datasets: ${(error as Error).message}`);
    return { orphans: [], decommissioned: [] };
  }
  const mine = (entry: LeftoverDataset) => host === undefined || entry.host === host;
  return { orphans: found.orphans.filter(mine), decommissioned: found.decommissioned.filter(mine) };
}

/** The paused backup schedules, each with its note ("" without one), and when the schedules that never ran
 * first will; none when schedules cannot be listed. */
async function scheduleStates(client: Client): Promise<{ paused: Map<string, string>; firstDue: Map<string, Date> }> {
  try {
    const { owned } = await listOwnedSchedules(client);
    return {
      paused: new Map(owned.filter((entry) => entry.paused).map((entry) => [entry.scheduleId, entry.note ?? ''])),
      firstDue: new Map(
        owned.flatMap((entry) => (entry.firstDueAt ? [[entry.scheduleId, entry.firstDueAt] as const] : [])),
      ),
    };
  } catch (error) {
    console.error(
      `tidemark: WARNING: could not list the schedules (paused pairs not shown): ${(error as Error).message}`,
    );
    return { paused: new Map(), firstDue: new Map() };
  }
}

/** The first line of the newest finished run's failure, when it FAILED (one extra call per failed pair). */
async function failureOfNewest(client: Client, runs: RunRecord[]): Promise<string | undefined> {
  const newest = [...runs]
    .filter((run) => run.status !== 'RUNNING')
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
  if (newest?.status !== 'FAILED' || !newest.workflowId) return undefined;
  try {
    // A run can end FAILED without the workflow failing (a hook failed): its summary says why.
    const summary = (await client.workflow.getHandle(newest.workflowId, newest.runId).result()) as
      { message?: string } | undefined;
    return summary?.message?.split('\n')[0];
  } catch (error) {
    let cause: unknown = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return String(cause instanceof Error ? cause.message : cause).split('\n')[0];
  }
}

/** Runs older than this are looked for pair by pair only when a pair has no success since. */
const minimumLookbackMs = 7 * 86_400_000;

function pairKey(pair: HostServerPair): string {
  return `${pair.host}@${pair.server}`;
}

/** The newest runs (up to recentRuns) of every pair started since `since`, newest first: one visibility
 * scan for the whole fleet instead of a query per pair (1,000 pairs took ~27 s that way). */
async function recentRunsOfFleet(
  client: Client,
  pairs: HostServerPair[],
  since: Date,
  server: string | undefined,
): Promise<Map<string, RunRecord[]>> {
  const wanted = new Set(pairs.map(pairKey));
  const found = new Map<string, RunRecord[]>();
  const onServer = server === undefined ? '' : ` AND TidemarkServer = ${quote(server)}`;
  const query = `WorkflowType = 'backupHost' AND StartTime > ${quote(since.toISOString())}${onServer}`;
  // Newest first: once every pair has a success (a healthy fleet: about one interval's runs) the rest says
  // nothing new; past two runs a pair the stragglers are cheaper asked one by one.
  const unsettled = new Set(wanted);
  const rowLimit = 2 * pairs.length + 100;
  let rows = 0;
  for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
    rows += 1;
    const host = execution.typedSearchAttributes.get(hostAttribute);
    const runServer = execution.typedSearchAttributes.get(serverAttribute);
    const key = host === undefined || runServer === undefined ? undefined : pairKey({ host, server: runServer });
    if (key !== undefined && wanted.has(key)) {
      const runs = found.get(key) ?? [];
      if (runs.length < recentRuns) runs.push(runRecord(execution));
      found.set(key, runs);
      if (runs.at(-1)?.status === 'SUCCESS') unsettled.delete(key);
    }
    if (unsettled.size === 0 || rows >= rowLimit) break;
  }
  return found;
}

/** Recent `backupHost` runs of one pair (the scheduled parents carry the attributes too, not counted). */
async function pairRuns(client: Client, pair: HostServerPair): Promise<{ runs: RunRecord[]; lastSuccess?: RunRecord }> {
  const base = `WorkflowType = 'backupHost' AND TidemarkHost = ${quote(pair.host)} AND TidemarkServer = ${quote(pair.server)}`;
  const runs = await firstRuns(client, base, recentRuns);
  if (runs.some((run) => run.status === 'SUCCESS')) return { runs };
  const [lastSuccess] = await firstRuns(client, `${base} AND TidemarkStatus = 'SUCCESS'`, 1);
  return lastSuccess ? { runs, lastSuccess } : { runs };
}

async function firstRuns(client: Client, query: string, limit: number): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for await (const execution of client.workflow.list({ query, pageSize: limit })) {
    runs.push(runRecord(execution));
    if (runs.length >= limit) break;
  }
  return runs;
}

/** A run that ended without recording how (terminated, timed out, or run by a worker older than the
 * attributes) is judged by Temporal's own status; one that completed so is never counted as a success. */
export function runRecord(execution: WorkflowExecutionInfo): RunRecord {
  const recorded = execution.typedSearchAttributes.get(statusAttribute);
  const bytes = execution.typedSearchAttributes.get(bytesAttribute);
  let status: RunStatus;
  if (execution.status.name === 'RUNNING' || execution.status.name === 'PAUSED') status = 'RUNNING';
  else if (recorded !== undefined && recorded !== 'RUNNING' && (runStatuses as readonly string[]).includes(recorded))
    status = recorded as RunStatus;
  else
    status =
      execution.status.name === 'CANCELLED'
        ? 'CANCELLED'
        : execution.status.name === 'COMPLETED'
          ? 'WARNING'
          : 'FAILED';
  return {
    status,
    workflowId: execution.workflowId,
    runId: execution.runId,
    startedAt: execution.startTime,
    ...(execution.closeTime ? { closedAt: execution.closeTime } : {}),
    ...(bytes !== undefined ? { bytes } : {}),
  };
}

/** A visibility query string literal (inventory names have no quotes, but never trust that here). */
export function quote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The orphan and decommissioned sections of the text output (none when empty). */
export function leftoverTables(leftovers: Leftovers): string[] {
  const sections: string[] = [];
  const section = (title: string, entries: LeftoverDataset[], last: (entry: LeftoverDataset) => string) => {
    if (entries.length === 0) return;
    const table = [
      ['HOST', 'SERVER', 'DATASET', 'LAST SNAPSHOT', 'SIZE', last === orphanHint ? 'NOTE' : 'DECOMMISSIONED'],
    ];
    for (const entry of entries) {
      table.push([
        entry.host,
        entry.server,
        entry.dataset,
        entry.lastSnapshot ?? 'none',
        formatBytes(entry.bytes),
        last(entry),
      ]);
    }
    const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
    sections.push(
      `${title}\n${table.map((line) => line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n')}`,
    );
  };
  section('ORPHANS (host datasets here that no inventory host is backed up into)', leftovers.orphans, orphanHint);
  section('DECOMMISSIONED', leftovers.decommissioned, (entry) => entry.decommissionedAt ?? '');
  return sections;
}

function orphanHint(entry: LeftoverDataset): string {
  return `"tidemark decommission --host ${entry.host} --server ${entry.server}" keeps it on purpose`;
}

export function statusTable(rows: PairStatus[]): string {
  const local = new Intl.DateTimeFormat('sv-SE', { dateStyle: 'short', timeStyle: 'short' });
  const table = [['HOST', 'SERVER', 'LAST RUN', 'STARTED', 'TOOK', 'BYTES', 'LAST SUCCESS', 'AGE', 'VERDICT']];
  for (const row of rows) {
    table.push([
      row.host,
      row.server,
      row.lastStatus ?? 'never run',
      row.lastRunAt ? local.format(new Date(row.lastRunAt)) : '-',
      row.lastRunDurationMs === null ? '-' : formatDuration(row.lastRunDurationMs),
      row.lastRunBytes === null ? '-' : formatBytes(row.lastRunBytes),
      row.lastSuccessAt ? local.format(new Date(row.lastSuccessAt)) : 'never',
      row.lastSuccessAgeMs === null ? '-' : formatDuration(row.lastSuccessAgeMs, { days: true }),
      row.verdict === 'OK' ? 'OK' : `${row.verdict}: ${row.reasons.join('; ')}`,
    ]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  return table
    .map((line) =>
      line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '),
    )
    .join('\n');
}
