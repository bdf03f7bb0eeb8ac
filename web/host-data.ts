// The host page's facts: the host's snapshots on one server as that server's worker reads them (the same
// report as `tidemark snapshots`, through the `hostFacts` workflow), its recent runs from visibility, and
// its effective settings as `config check --explain` gives them.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, type Client } from '@temporalio/client';
import { TidemarkError } from '../domain/errors.js';
import { controlTaskQueue, runUrl } from '../domain/names.js';
import { hostFactsWorkflowId, snapshotFilesWorkflowId } from '../domain/server-facts.js';
import { explainHost, type ExplainedSetting } from '../inventory/explain.js';
import { resolveHost } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';
import { loadHostSources } from '../inventory/sources.js';
import type { TemporalSettings } from '../temporal/settings.js';
import { recentHostRuns, type HostRun } from '../fleet/host-runs.js';
import type { FindReport } from '../pool/snapshot-find.js';
import type { HistoryReport, SnapshotListing } from '../pool/snapshot-files.js';
import type { SnapshotReport } from '../pool/snapshot-report.js';
import { noAnswer } from './server-facts.js';

export interface HostPageData {
  host: string;
  server: string;
  /** Every server the host is backed up on, for links to its other pages. */
  servers: string[];
  /** The server's worker's answer, or why there is none. */
  snapshots: { report: SnapshotReport } | { unreachable: string };
  runs: Array<HostRun & { url?: string }>;
  settings: ExplainedSetting[];
}

/** `server` absent: the host's first server. A host or server the inventory does not pair: USAGE. */
/** The host's pair on `server` (its first server when absent); USAGE naming the servers otherwise. */
export async function hostPair(inventory: Inventory, hostName: string, serverName?: string) {
  const { inventory: merged } = await loadHostSources(inventory);
  const resolved = resolveHost(merged, hostName);
  const server = serverName ?? resolved.servers[0]!;
  if (!resolved.servers.includes(server))
    throw new TidemarkError(
      'USAGE',
      `server: ${resolved.host} is not backed up on "${server}" (its servers: ${resolved.servers.join(', ')})`,
    );
  return { merged, resolved, pair: { host: resolved.host, server } };
}

export interface BrowseData {
  host: string;
  server: string;
  path: string;
  /** The worker's listing; a request it refused (no such snapshot, a bad path) with why; or no answer. */
  listing: { files: SnapshotListing } | { refused: string } | { unreachable: string };
}

/** One directory of a snapshot (`snapshot` absent: the newest complete one), from the server's worker. */
export async function browseData(
  client: Client,
  inventory: Inventory,
  request: { host: string; server?: string; snapshot?: string; path: string },
): Promise<BrowseData> {
  const { pair } = await hostPair(inventory, request.host, request.server);
  const ask = { ...pair, path: request.path, ...(request.snapshot ? { snapshot: request.snapshot } : {}) };
  try {
    const files = await client.workflow.execute('snapshotFiles', {
      taskQueue: controlTaskQueue,
      workflowId: snapshotFilesWorkflowId(pair.server, pair.host, randomUUID()),
      args: [ask],
      workflowExecutionTimeout: '30s',
    });
    return { ...pair, path: request.path, listing: { files: files as SnapshotListing } };
  } catch (error) {
    let cause: unknown = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    if (cause instanceof ApplicationFailure && cause.type === 'USAGE')
      return { ...pair, path: request.path, listing: { refused: cause.message } };
    return { ...pair, path: request.path, listing: { unreachable: noAnswer(error) } };
  }
}

export async function hostPageData(
  client: Client,
  inventory: Inventory,
  temporal: TemporalSettings,
  hostName: string,
  serverName?: string,
): Promise<HostPageData> {
  const { merged, resolved, pair } = await hostPair(inventory, hostName, serverName);
  const [snapshots, runs] = await Promise.all([askHostFacts(client, pair), recentHostRuns(client, pair)]);
  return {
    ...pair,
    servers: resolved.servers,
    snapshots,
    runs: runs.map((run) =>
      run.workflowId && run.runId ? { ...run, url: runUrl(temporal, run.workflowId, run.runId) } : run,
    ),
    settings: explainHost(merged, resolved.host),
  };
}

async function askHostFacts(
  client: Client,
  pair: { host: string; server: string },
): Promise<HostPageData['snapshots']> {
  try {
    const report = await client.workflow.execute('hostFacts', {
      taskQueue: controlTaskQueue,
      workflowId: hostFactsWorkflowId(pair.server, pair.host, randomUUID()),
      args: [pair],
      // No worker at all (not even on the control queue): give up rather than wait.
      workflowExecutionTimeout: '15s',
    });
    return { report: report as SnapshotReport };
  } catch (error) {
    return { unreachable: noAnswer(error) };
  }
}

export interface HistoryData {
  host: string;
  server: string;
  path: string;
  history: { report: HistoryReport } | { refused: string } | { unreachable: string };
}

/** Which of the host's snapshots on `server` hold `path`, from the server's worker. */
export async function historyData(
  client: Client,
  inventory: Inventory,
  request: { host: string; server?: string; path: string },
): Promise<HistoryData> {
  const { pair } = await hostPair(inventory, request.host, request.server);
  const base = { ...pair, path: request.path };
  try {
    const report = await client.workflow.execute('pathHistory', {
      taskQueue: controlTaskQueue,
      workflowId: snapshotFilesWorkflowId(pair.server, pair.host, randomUUID()),
      args: [base],
      workflowExecutionTimeout: '60s',
    });
    return { ...base, history: { report: report as HistoryReport } };
  } catch (error) {
    let cause: unknown = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    if (cause instanceof ApplicationFailure && cause.type === 'USAGE')
      return { ...base, history: { refused: cause.message } };
    return { ...base, history: { unreachable: noAnswer(error) } };
  }
}

export interface FindData {
  host: string;
  server: string;
  pattern: string;
  ignoreCase: boolean;
  found: { report: FindReport } | { refused: string } | { unreachable: string } | undefined;
}

/** `pattern` empty: the form only. Otherwise the server's worker searches every snapshot of the host. */
export async function findData(
  client: Client,
  inventory: Inventory,
  request: { host: string; server?: string; pattern: string; ignoreCase: boolean },
): Promise<FindData> {
  const { pair } = await hostPair(inventory, request.host, request.server);
  const base = { ...pair, pattern: request.pattern, ignoreCase: request.ignoreCase };
  if (request.pattern === '') return { ...base, found: undefined };
  try {
    const report = await client.workflow.execute('findMatches', {
      taskQueue: controlTaskQueue,
      workflowId: snapshotFilesWorkflowId(pair.server, pair.host, randomUUID()),
      args: [base],
      workflowExecutionTimeout: '120s',
    });
    return { ...base, found: { report: report as FindReport } };
  } catch (error) {
    let cause: unknown = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    if (cause instanceof ApplicationFailure && cause.type === 'USAGE')
      return { ...base, found: { refused: cause.message } };
    return { ...base, found: { unreachable: noAnswer(error) } };
  }
}
