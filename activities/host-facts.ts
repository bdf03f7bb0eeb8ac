// The web console's host page asks this backup server for one host's snapshots: the same report
// `tidemark snapshots` prints here (pool/snapshot-report.ts), read from this worker's own inventory and pool.
import { hostTarget } from '../inventory/host-target.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import { resolveHost } from '../inventory/resolve.js';
import { snapshotReport, type SnapshotReport } from '../pool/snapshot-report.js';
import { datasetInfo } from '../pool/zfs.js';

export async function readHostFacts(inventoryPath: string, server: string, host: string): Promise<SnapshotReport> {
  const { inventory } = await keptInventory(inventoryPath).read();
  const target = hostTarget(inventory, resolveHost(inventory, host), server);
  const exists = (await datasetInfo(target.dataset)) !== undefined;
  return (await snapshotReport({ ...target, exists })).report;
}
