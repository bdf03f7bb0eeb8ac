// `tidemark cancel-backup --host vpn [--server S]`: stop running backups; rsync and ssh are killed,
// no snapshot is taken, the previous snapshots stay as they were.
import { WorkflowNotFoundError } from '@temporalio/client';
import { ExitCode } from '../domain/errors.js';
import { backupWorkflowId } from '../domain/names.js';
import type { Inventory } from '../inventory/schema.js';
import { resolveHost, resolveServer } from '../inventory/resolve.js';
import { resolveTemporal } from '../temporal/settings.js';
import { connectClient } from '../temporal/connection.js';

/** One element of `cancel-backup --json`. */
export interface CancelReport {
  host: string;
  server: string;
  workflowId: string;
  /** "cancel-requested": the run was running and is being stopped; "not-running": nothing to cancel. */
  outcome: 'cancel-requested' | 'not-running';
  runId?: string;
}

export async function cancelBackup(
  inventory: Inventory,
  options: { host: string; server?: string; json?: boolean },
): Promise<ExitCode> {
  const host = resolveHost(inventory, options.host);
  const servers = options.server ? [options.server] : host.servers;
  for (const server of servers) resolveServer(inventory, host, server);
  const client = await connectClient(resolveTemporal(inventory));
  const reports: CancelReport[] = [];
  for (const server of servers) {
    const handle = client.workflow.getHandle(backupWorkflowId(host.host, server));
    const report: CancelReport = { host: host.host, server, workflowId: handle.workflowId, outcome: 'not-running' };
    reports.push(report);
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') continue;
      await handle.cancel();
      Object.assign(report, { outcome: 'cancel-requested', runId: description.runId });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  if (options.json) console.log(JSON.stringify(reports, null, 2));
  else {
    const cancelled = reports.filter((report) => report.outcome === 'cancel-requested');
    for (const report of cancelled) console.log(`cancel requested: ${report.workflowId} run ${report.runId}`);
    if (cancelled.length === 0) console.log(`no running backup of ${host.host} on ${servers.join(', ')}`);
  }
  return ExitCode.ok;
}
