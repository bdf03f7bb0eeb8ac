// Where a host's backups live on one of its servers and the retention they follow, from the inventory alone
// (whether the dataset exists is the pool's to say: client/snapshots.ts, activities/host-facts.ts).
import type { HostTarget } from '../domain/host-target.js';
import { hostDataset } from '../domain/names.js';
import { replicaRetention } from './replication.js';
import { resolveGuards, resolveServer, type ResolvedHost } from './resolve.js';
import type { Inventory } from './schema.js';

export function hostTarget(inventory: Inventory, host: ResolvedHost, server: string): HostTarget {
  const { dataset, adopt } = resolveServer(inventory, host, server);
  return {
    host: host.host,
    server,
    dataset: hostDataset(dataset, host.host),
    // A replication target's replicas follow its own policy (servers.<name>.replication.retention).
    policy: replicaRetention(inventory, host.host, server),
    adopt,
    anomalyCap: resolveGuards(inventory, host.host).maxAnomalySnapshots,
  };
}
