// A pair's recent backup runs for the console's host page: status, when, how long, bytes, and why the
// failed ones failed (read from visibility like `tidemark status`, fleet/status.ts).
import type { Client } from '@temporalio/client';
import type { HostServerPair } from './pairs.js';
import { firstRuns, quote, runFailure } from './status.js';
import type { RunRecord } from './verdict.js';

export interface HostRun extends RunRecord {
  /** FAILED runs: the first line of their failure. */
  reason?: string;
}

/** The pair's newest `limit` runs, newest first. */
export async function recentHostRuns(client: Client, pair: HostServerPair, limit = 30): Promise<HostRun[]> {
  const query = `WorkflowType = 'backupHost' AND TidemarkHost = ${quote(pair.host)} AND TidemarkServer = ${quote(pair.server)}`;
  const runs = await firstRuns(client, query, limit);
  runs.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  return Promise.all(
    runs.map(async (run) => {
      const reason = run.status === 'FAILED' ? await runFailure(client, run) : undefined;
      return reason === undefined ? run : { ...run, reason };
    }),
  );
}
