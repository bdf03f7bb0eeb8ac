// The fleet page's rows: `tidemark status`'s verdict of every (host, server) pair (fleet/status.ts, the same
// code), with the newest run's link into the Temporal Web UI, filtered and sorted as the page asks.
import type { Client } from '@temporalio/client';
import { runUrl } from '../domain/names.js';
import type { Inventory } from '../inventory/schema.js';
import { loadHostSources } from '../inventory/sources.js';
import type { TemporalSettings } from '../temporal/settings.js';
import { hostServerPairs } from '../fleet/pairs.js';
import { collectFleetStatus } from '../fleet/status.js';
import type { PairStatus, Verdict } from '../fleet/verdict.js';
import type { ServerFactsCache } from './server-facts.js';

export interface ConsoleRow extends PairStatus {
  /** The newest run in the Temporal Web UI (absent: never run). */
  lastRunUrl?: string;
  /** Bytes the host's dataset uses on the server (snapshots included), as its worker says; absent: unknown. */
  usedBytes?: number;
  /** The server's worker did not answer: why. Its pool facts are unknown; the verdict still stands. */
  unreachable?: string;
}

export const sortKeys = ['host', 'server', 'verdict', 'age'] as const;
export type SortKey = (typeof sortKeys)[number];

/** What the page's form asks for: substring filters on host and server, one verdict, a sort column. */
export interface FleetQuery {
  host?: string;
  server?: string;
  verdict?: Verdict;
  sort: SortKey;
}

export async function fleetRows(
  client: Client,
  inventory: Inventory,
  settings: TemporalSettings,
  facts: ServerFactsCache,
): Promise<ConsoleRow[]> {
  const { inventory: merged } = await loadHostSources(inventory);
  const pairs = hostServerPairs(merged);
  const [found, answers] = await Promise.all([
    collectFleetStatus(client, merged, pairs),
    facts.ask([...new Set(pairs.map((pair) => pair.server))]),
  ]);
  return found.map(({ status, runs }) => {
    const last = runs[0];
    const answer = answers.get(status.server);
    const used =
      answer && 'facts' in answer
        ? answer.facts.datasets.find((entry) => entry.host === status.host)?.usedBytes
        : undefined;
    return {
      ...status,
      ...(last?.workflowId && last.runId ? { lastRunUrl: runUrl(settings, last.workflowId, last.runId) } : {}),
      ...(used !== undefined ? { usedBytes: used } : {}),
      ...(answer && 'unreachable' in answer ? { unreachable: answer.unreachable } : {}),
    };
  });
}

const severity: Record<Verdict, number> = { CRITICAL: 0, WARNING: 1, OK: 2 };

/** The rows the query keeps, in its order (ties by host, then server); worst verdict first for "verdict". */
export function selectRows(rows: ConsoleRow[], query: FleetQuery): ConsoleRow[] {
  const has = (value: string, part: string | undefined) => !part || value.toLowerCase().includes(part.toLowerCase());
  const byName = (a: ConsoleRow, b: ConsoleRow) => a.host.localeCompare(b.host) || a.server.localeCompare(b.server);
  const order: Record<SortKey, (a: ConsoleRow, b: ConsoleRow) => number> = {
    host: byName,
    server: (a, b) => a.server.localeCompare(b.server) || byName(a, b),
    verdict: (a, b) => severity[a.verdict] - severity[b.verdict] || byName(a, b),
    // Oldest success first; never backed up before everything.
    age: (a, b) =>
      (b.lastSuccessAgeMs ?? Number.POSITIVE_INFINITY) - (a.lastSuccessAgeMs ?? Number.POSITIVE_INFINITY) ||
      byName(a, b),
  };
  return rows
    .filter((row) => has(row.host, query.host) && has(row.server, query.server))
    .filter((row) => !query.verdict || row.verdict === query.verdict)
    .sort(order[query.sort]);
}

/** Counts for the summary bar. */
export function summarize(rows: ConsoleRow[]): Record<Verdict, number> & { paused: number; unreachable: number } {
  const count = (verdict: Verdict) => rows.filter((row) => row.verdict === verdict).length;
  return {
    OK: count('OK'),
    WARNING: count('WARNING'),
    CRITICAL: count('CRITICAL'),
    paused: rows.filter((row) => row.paused !== undefined).length,
    unreachable: rows.filter((row) => row.unreachable !== undefined).length,
  };
}
