// `tidemark config check`: validate the inventory and show what Tidemark understood.
import type { Inventory } from '../inventory/schema.js';
import { resolveHost, resolveMonitoring, resolveRetention, resolveTemporal, serverTimeZone } from '../inventory/resolve.js';
import { describeConnection } from '../inventory/temporal.js';
import { resolveNotifyTargets } from '../notify/targets.js';
import { describePolicy } from './snapshots.js';

export function describeInventory(inventory: Inventory, path: string): string {
  const temporal = resolveTemporal(inventory);
  const lines = [`${path}: valid`, `temporal: ${describeConnection(temporal)}, namespace ${temporal.namespace} (UI ${temporal.uiUrl})`];
  lines.push(`servers (${Object.keys(inventory.servers).length}):`);
  for (const [name, server] of Object.entries(inventory.servers)) {
    const adopted = [server.adopt?.sown ? 'SOWN' : '', server.adopt?.planb ? 'PlanB' : ''].filter(Boolean);
    lines.push(`  ${name}: dataset ${server.dataset}, ${server.concurrency ?? 2} transfers at once${adopted.length > 0 ? `, adopts ${adopted.join(' and ')} snapshots` : ''}`);
    const targets = resolveNotifyTargets(inventory, name);
    const monitoring = resolveMonitoring(inventory, name);
    lines.push(`    notify: ${targets.map(({ id, target }) => `${target.type} (${id})`).join(', ') || 'none'}; metrics ${monitoring.metrics ?? 'off'}; state ${monitoring.stateFile}`);
  }
  lines.push(`hosts (${Object.keys(inventory.hosts).length}):`);
  const zone = serverTimeZone();
  for (const name of Object.keys(inventory.hosts)) {
    const host = resolveHost(inventory, name);
    lines.push(`  ${name}: ${host.user}@${host.address}:${host.port}${host.sudo ? ' (sudo)' : ''} paths ${host.paths.join(' ')} → ${host.servers.join(', ')}`);
    lines.push(`    retention: ${describePolicy(resolveRetention(inventory, name, zone), {})}`);
  }
  return lines.join('\n');
}
