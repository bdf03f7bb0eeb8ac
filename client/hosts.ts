// `tidemark hosts [--server S] [--zabbix | --json]`: the (host, server) pairs of the inventory; with --zabbix as
// Zabbix low-level discovery JSON (like PlanB's `blist --zabbix`): {"data":[{"{#HOST}":…,"{#SERVER}":…}]}.
// A discovery rule on the Zabbix side then makes the trapper items tidemark.status[{#SERVER}] & co.
// Hosts come from `hosts:` and, when `netbox:` is set, from NetBox (as the schedules do).
import { TidemarkError } from '../domain/errors.js';
import { resolveHost, serverEntry } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';
import { loadHostSources } from '../inventory/sources.js';

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

export function zabbixDiscovery(pairs: HostServerPair[]): string {
  return JSON.stringify({ data: pairs.map((pair) => ({ '{#HOST}': pair.host, '{#SERVER}': pair.server })) });
}

export function hostsTable(pairs: HostServerPair[]): string {
  const width = Math.max(4, ...pairs.map((pair) => pair.host.length));
  return [`${'HOST'.padEnd(width)}  SERVER`, ...pairs.map((pair) => `${pair.host.padEnd(width)}  ${pair.server}`)].join(
    '\n',
  );
}

/** `tidemark hosts`: the pairs of the YAML hosts and NetBox's, printed as a table or discovery JSON. */
export async function hostsCommand(
  inventory: Inventory,
  options: { server?: string; zabbix: boolean; json?: boolean },
): Promise<string> {
  const { inventory: merged, outage } = await loadHostSources(inventory, process.env, { useKept: true });
  for (const line of outage ?? []) console.error(`tidemark: WARNING: ${line}`);
  const pairs = hostServerPairs(merged, options.server);
  if (options.json) return JSON.stringify(pairs, null, 2);
  return options.zabbix ? zabbixDiscovery(pairs) : hostsTable(pairs);
}
