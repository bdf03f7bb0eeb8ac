// `tidemark cancel-backup --host vpn [--server S]`: stop running backups; rsync and ssh are killed,
// no snapshot is taken, the previous snapshots stay as they were.
import { WorkflowNotFoundError } from '@temporalio/client';
import { ExitCode } from '../domain/errors.js';
import { backupWorkflowId } from '../domain/names.js';
import type { Inventory } from '../inventory/schema.js';
import { resolveHost, resolveServer, resolveTemporal } from '../inventory/resolve.js';
import { connectClient } from '../inventory/temporal-connection.js';

export async function cancelBackup(
  inventory: Inventory,
  options: { host: string; server?: string },
): Promise<ExitCode> {
  const host = resolveHost(inventory, options.host);
  const servers = options.server ? [options.server] : host.servers;
  for (const server of servers) resolveServer(inventory, host, server);
  const client = await connectClient(resolveTemporal(inventory));
  let cancelled = 0;
  for (const server of servers) {
    const handle = client.workflow.getHandle(backupWorkflowId(host.host, server));
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') continue;
      await handle.cancel();
      console.log(`cancel requested: ${handle.workflowId} run ${description.runId}`);
      cancelled += 1;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  if (cancelled === 0) console.log(`no running backup of ${host.host} on ${servers.join(', ')}`);
  return ExitCode.ok;
}
