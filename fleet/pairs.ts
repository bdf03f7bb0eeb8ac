// The (host, server) pairs of an inventory: what `hosts`, `status` and the web console list, one row each.
import { TidemarkError } from '../domain/errors.js';
import { resolveHost, serverEntry } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';

export interface HostServerPair {
  host: string;
  server: string;
}

/** Every host with each server it is backed up on (only `server` when given), sorted. */
export function hostServerPairs(inventory: Inventory, server?: string): HostServerPair[] {
  if (server !== undefined && !serverEntry(inventory, server)) {
    throw new TidemarkError(
      'USAGE',
      `--server: "${server}" is not under "servers" (known: ${Object.keys(inventory.servers).join(', ')})`,
    );
  }
  return Object.keys(inventory.hosts)
    .sort()
    .flatMap((host) => resolveHost(inventory, host).servers.map((name) => ({ host, server: name })))
    .filter((pair) => server === undefined || pair.server === server);
}
