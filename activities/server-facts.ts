// The web console's question to this backup server: which host datasets it holds and how big they are. Runs
// on the server's own queue, so an answer proves its worker is up; it takes no input to check.
import type { ServerFacts } from '../domain/server-facts.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import { resolveHost, resolveServer } from '../inventory/resolve.js';
import { getExisting } from '../pool/zfs.js';

export async function readServerFacts(inventoryPath: string, server: string): Promise<ServerFacts> {
  const { inventory } = await keptInventory(inventoryPath).read();
  const wanted: Array<{ host: string; dataset: string }> = [];
  for (const name of Object.keys(inventory.hosts)) {
    // A host entry that does not validate is left out here; `status` and `config check` name it.
    const host = (() => {
      try {
        return resolveHost(inventory, name);
      } catch {
        return undefined;
      }
    })();
    if (!host?.servers.includes(server)) continue;
    wanted.push({ host: host.host, dataset: `${resolveServer(inventory, host, server).dataset}/${host.host}` });
  }
  if (wanted.length === 0) return { server, datasets: [] };
  const used = new Map(
    (
      await getExisting(
        wanted.map((entry) => entry.dataset),
        ['used'],
      )
    ).map((row) => [row.name, Number(row.value)]),
  );
  return {
    server,
    datasets: wanted.flatMap((entry) =>
      used.has(entry.dataset) ? [{ ...entry, usedBytes: used.get(entry.dataset)! }] : [],
    ),
  };
}
