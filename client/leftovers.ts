// Host datasets on this machine that the inventory no longer backs up: orphans (host gone from the
// inventory, or moved off that server, without `tidemark decommission`) and decommissioned ones.
// Read from the pool directly, so only servers whose dataset is on this machine are looked at.
import { decommissionedProperty } from '../pool/decommission-mark.js';
import { ownerProperty } from '../pool/owner.js';
import { datasetInfo, getOneLevel, listSnapshots, runPoolTool } from '../pool/zfs.js';
import type { HostServerPair } from '../fleet/pairs.js';

export interface LeftoverDataset {
  host: string;
  server: string;
  dataset: string;
  /** Name (after the "@") of the newest snapshot, null when there is none. */
  lastSnapshot: string | null;
  /** Creation time of that snapshot, ISO 8601 UTC. */
  lastSnapshotAt: string | null;
  /** `used` of the dataset with its snapshots, bytes. */
  bytes: number;
  /** When `tidemark decommission` marked it, ISO 8601; null for an orphan. */
  decommissionedAt: string | null;
}

export interface Leftovers {
  orphans: LeftoverDataset[];
  decommissioned: LeftoverDataset[];
}

/**
 * Children of each server's dataset (`servers`: name → dataset) that carry a host mark: decommissioned
 * when marked so, orphans when no pair of `pairs` backs that host up on that server.
 */
export async function findLeftovers(servers: Record<string, string>, pairs: HostServerPair[]): Promise<Leftovers> {
  const backedUp = new Set(pairs.map((pair) => `${pair.host}@${pair.server}`));
  const found: Leftovers = { orphans: [], decommissioned: [] };
  // `status` also runs on machines without a pool (it reads Temporal): nothing local to list there.
  if ((await runPoolTool('zfs', ['list', '-H', '-o', 'name', '-d', '0'])).notInstalled) return found;
  for (const [server, serverDataset] of Object.entries(servers).sort(([a], [b]) => a.localeCompare(b))) {
    if (!(await datasetInfo(serverDataset))) continue;
    for (const child of await markedChildren(serverDataset)) {
      const decommissioned = child.decommissionedAt !== null;
      if (!decommissioned && backedUp.has(`${child.host}@${server}`)) continue;
      const last = (await listSnapshots(child.dataset)).at(-1);
      const entry: LeftoverDataset = {
        host: child.host,
        server,
        dataset: child.dataset,
        lastSnapshot: last?.name ?? null,
        lastSnapshotAt: last ? new Date(last.createdAt * 1000).toISOString() : null,
        bytes: child.bytes,
        decommissionedAt: child.decommissionedAt,
      };
      (decommissioned ? found.decommissioned : found.orphans).push(entry);
    }
  }
  return found;
}

interface MarkedChild {
  dataset: string;
  host: string;
  bytes: number;
  decommissionedAt: string | null;
}

/** Direct children with a local host mark (an inherited one would name the parent's host, not theirs). */
async function markedChildren(serverDataset: string): Promise<MarkedChild[]> {
  const byName = new Map<string, { host?: string; bytes: number; decommissionedAt: string | null }>();
  for (const { name, property, value, source } of await getOneLevel(serverDataset, [
    ownerProperty,
    decommissionedProperty,
    'used',
  ])) {
    if (name === serverDataset || !name.startsWith(`${serverDataset}/`)) continue;
    const entry = byName.get(name) ?? { bytes: 0, decommissionedAt: null };
    if (property === ownerProperty && source === 'local') entry.host = value;
    if (property === decommissionedProperty && source === 'local') entry.decommissionedAt = value;
    if (property === 'used') entry.bytes = Number(value);
    byName.set(name, entry);
  }
  return [...byName]
    .filter(([, entry]) => entry.host !== undefined)
    .map(([dataset, entry]) => ({
      dataset,
      host: entry.host!,
      bytes: entry.bytes,
      decommissionedAt: entry.decommissionedAt,
    }))
    .sort((a, b) => a.dataset.localeCompare(b.dataset));
}
