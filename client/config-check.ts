// `tidemark config check`: validate the inventory and show what Tidemark understood.
import type { Inventory } from '../inventory/schema.js';
import { resolveHost, resolveTemporal } from '../inventory/resolve.js';

export function describeInventory(inventory: Inventory, path: string): string {
  const temporal = resolveTemporal(inventory);
  const lines = [`${path}: valid`, `temporal: ${temporal.address} namespace ${temporal.namespace} (UI ${temporal.uiUrl})`];
  lines.push(`servers (${Object.keys(inventory.servers).length}):`);
  for (const [name, server] of Object.entries(inventory.servers)) {
    lines.push(`  ${name}: dataset ${server.dataset}, ${server.concurrency ?? 2} transfers at once`);
  }
  lines.push(`hosts (${Object.keys(inventory.hosts).length}):`);
  for (const name of Object.keys(inventory.hosts)) {
    const host = resolveHost(inventory, name);
    lines.push(`  ${name}: ${host.user}@${host.address}:${host.port}${host.sudo ? ' (sudo)' : ''} paths ${host.paths.join(' ')} → ${host.servers.join(', ')}`);
  }
  return lines.join('\n');
}
