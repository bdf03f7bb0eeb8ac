// Which of a host's datasets a verb run on this backup server reads: shared by the verbs that work on the
// pool directly (snapshots, prune, hold, adopt-dataset, files, history, find, verify).
import { renamedInto } from '../pool/renamed.js';
import { datasetInfo } from '../pool/zfs.js';
import { TidemarkError } from '../domain/errors.js';
import type { LocalTarget } from '../domain/host-target.js';
import { hostTarget } from '../inventory/host-target.js';
import { resolveHost } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';

/** `--server`, else the host's only server, else the one of its servers whose dataset is on this machine. */
export async function localTarget(inventory: Inventory, hostName: string, serverName?: string): Promise<LocalTarget> {
  let host: ReturnType<typeof resolveHost>;
  try {
    host = resolveHost(inventory, hostName);
  } catch (error) {
    await refuseRenamed(inventory, hostName);
    throw error;
  }
  const candidates = (serverName ? [serverName] : host.servers).map((server) => hostTarget(inventory, host, server));
  const present = [];
  for (const candidate of candidates) if (await datasetInfo(candidate.dataset)) present.push(candidate);
  let chosen = candidates.length === 1 ? candidates[0] : undefined;
  if (!chosen && present.length === 1) chosen = present[0];
  if (!chosen) {
    const here =
      present.length > 0
        ? `datasets of ${present.map((entry) => entry.server).join(', ')} are here`
        : 'none of their datasets is on this machine';
    throw new TidemarkError(
      'USAGE',
      `--server: ${host.host} is backed up on ${host.servers.join(', ')}; name one (${here})`,
    );
  }
  if (!present.includes(chosen)) await refuseRenamed(inventory, host.host);
  return { ...chosen, exists: present.includes(chosen) };
}

/** A host renamed with `tidemark rename-host`: a usage error naming where its backups went. */
async function refuseRenamed(inventory: Inventory, hostName: string): Promise<void> {
  for (const entry of Object.values(inventory.servers)) {
    const [into] = await renamedInto(entry.dataset, hostName);
    if (into === undefined) continue;
    const now = into.slice(into.lastIndexOf('/') + 1);
    throw new TidemarkError(
      'USAGE',
      `--host: ${hostName} was renamed to ${now}; its backups, the snapshots from before the rename included, are in ${into} (--host ${now})`,
    );
  }
}

/** localTarget for a command that reads the host's backups: a usage error while none has been made here. */
export async function backedUpTarget(
  inventory: Inventory,
  hostName: string,
  serverName?: string,
): Promise<LocalTarget> {
  const target = await localTarget(inventory, hostName, serverName);
  if (!target.exists)
    throw new TidemarkError(
      'USAGE',
      `--host: ${target.host} has no backup on ${target.server} yet (no dataset ${target.dataset})`,
    );
  return target;
}
