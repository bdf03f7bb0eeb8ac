// The status of every (host, server) pair, read from Temporal visibility (the runs' search attributes) and the
// schedules' pause notes, then judged by fleet/verdict.ts. One source for `tidemark status` and the web
// console, so both say the same verdict for the same pair.
import type { Client } from '@temporalio/client';
import { hostAttribute, serverAttribute } from '../domain/search-attributes.js';
import { escalationIn } from '../domain/notify.js';
import type { Inventory } from '../inventory/schema.js';
import { resolveSchedule, resolveStaleness } from '../inventory/resolve.js';
import { intervalMs } from '../inventory/inventory-checks.js';
import { backupScheduleId, drillScheduleId } from '../schedule/desired.js';
import { drillsOfFleet } from './drill-status.js';
import { listOwnedSchedules, mapLimit } from '../schedule/reconcile.js';
import type { HostServerPair } from './pairs.js';
import { defaultStaleness, judgePair, type PairStatus, type RunRecord } from './verdict.js';
import { replicaOfPair } from './replica-status.js';
import { quote } from './visibility-query.js';
import { runRecord } from './run-record.js';

export { quote } from './visibility-query.js';
export { runRecord } from './run-record.js';

/** Recent runs looked at per pair; the newest SUCCESS is fetched separately when none is among them. */
const recentRuns = 10;
/** Pairs queried at once: 200 hosts × 2 servers stay a few seconds without flooding the frontend. */
const parallelPairs = 8;

/** One pair's verdict with the runs it was judged on (newest first), for pages that link to them. */
export interface FleetRow {
  status: PairStatus;
  runs: RunRecord[];
}

/**
 * The status of `pairs` (of the merged inventory, host sources loaded): `staleMs` is `status --stale`;
 * `server` narrows the visibility scan to one server's runs.
 */
export async function collectFleetStatus(
  client: Client,
  inventory: Inventory,
  pairs: HostServerPair[],
  options: { staleMs?: number; server?: string; now?: Date } = {},
): Promise<FleetRow[]> {
  const { staleMs } = options;
  const now = options.now ?? new Date();
  const { paused, firstDue } = await scheduleStates(client);
  const intervals = new Map(
    pairs.map((pair) => [pair.host, intervalMs(resolveSchedule(inventory, pair.host).schedule)]),
  );
  const lookbackMs = Math.max(
    minimumLookbackMs,
    staleMs ?? 0,
    ...pairs.map(
      (pair) =>
        (intervals.get(pair.host) ?? 0) *
        (resolveStaleness(inventory, pair.host, pair.server).criticalAfter ?? defaultStaleness.criticalAfter),
    ),
  );
  const recent = await recentRunsOfFleet(client, pairs, new Date(now.getTime() - lookbackMs), options.server);
  const drills = await drillsOfFleet(client, inventory, pairs, (pair) =>
    firstDue.get(drillScheduleId(pair.host, pair.server)),
  );
  return mapLimit(pairs, parallelPairs, async (pair) => {
    const seen = recent.get(pairKey(pair)) ?? [];
    // A pair without a success in the window is asked on its own (older runs, or proof of "never").
    const found = seen.some((run) => run.status === 'SUCCESS') ? { runs: seen } : await pairRuns(client, pair);
    const interval = intervals.get(pair.host);
    const note = paused.get(backupScheduleId(pair.host, pair.server));
    const firstDueAt = firstDue.get(backupScheduleId(pair.host, pair.server));
    const { failure, escalation } = await newestRunNote(client, found.runs);
    const status = judgePair({
      ...pair,
      ...found,
      now,
      ...(staleMs ? { staleMs } : {}),
      ...(interval !== undefined ? { expectedIntervalMs: interval } : {}),
      ...resolveStaleness(inventory, pair.host, pair.server),
      ...(note !== undefined ? { paused: note } : {}),
      ...(firstDueAt !== undefined ? { firstDueAt } : {}),
      ...(failure !== undefined ? { failure } : {}),
      ...(escalation !== undefined ? { escalation } : {}),
      ...(drills.has(pairKey(pair)) ? { drill: drills.get(pairKey(pair))! } : {}),
    });
    const runs = [...found.runs].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
    const notDueYet = found.runs.length === 0 && firstDueAt !== undefined && firstDueAt > now;
    return { status: await replicaOfPair(client, inventory, status, { now, notDueYet }), runs };
  });
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

/** The first line of the newest finished run's failure when it FAILED, or its escalation when it ended WARNING
 * and monitoring was told FAILED (a partial or held streak): one extra call per such pair. */
async function newestRunNote(client: Client, runs: RunRecord[]): Promise<{ failure?: string; escalation?: string }> {
  const newest = [...runs]
    .filter((run) => run.status !== 'RUNNING')
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
  if ((newest?.status !== 'FAILED' && newest?.status !== 'WARNING') || !newest.workflowId) return {};
  try {
    // A run can end FAILED without the workflow failing (a hook failed): its summary says why.
    const summary = (await client.workflow.getHandle(newest.workflowId, newest.runId).result()) as
      { message?: string } | undefined;
    if (newest.status === 'WARNING') {
      const escalation = escalationIn(summary?.message);
      return escalation ? { escalation } : {};
    }
    const failure = summary?.message?.split('\n')[0];
    return failure !== undefined ? { failure } : {};
  } catch (error) {
    if (newest.status === 'WARNING') return {};
    let cause: unknown = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return { failure: String(cause instanceof Error ? cause.message : cause).split('\n')[0] };
  }
}

/** The first line of why a FAILED run failed (its summary's message, or the workflow's failure): the console's
 * host page shows it for each recent run. */
export async function runFailure(client: Client, run: RunRecord): Promise<string | undefined> {
  if (!run.workflowId) return undefined;
  try {
    const summary = (await client.workflow.getHandle(run.workflowId, run.runId).result()) as
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

export async function firstRuns(client: Client, query: string, limit: number): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for await (const execution of client.workflow.list({ query, pageSize: limit })) {
    runs.push(runRecord(execution));
    if (runs.length >= limit) break;
  }
  return runs;
}
