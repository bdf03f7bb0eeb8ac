// `tidemark hosts [--server S] [--zabbix | --json]`: the (host, server) pairs of the inventory; with --zabbix as
// Zabbix low-level discovery JSON (like PlanB's `blist --zabbix`): {"data":[{"{#HOST}":…,"{#SERVER}":…}]}.
// A discovery rule on the Zabbix side then makes the trapper items tidemark.status[{#SERVER}] & co.
// Hosts come from `hosts:` and, when `netbox:` is set, from NetBox (as the schedules do).
import type { Inventory } from '../inventory/schema.js';
import { hostServerPairs, type HostServerPair } from '../fleet/pairs.js';
import { loadHostSources } from '../inventory/sources.js';

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
