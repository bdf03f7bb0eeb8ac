// `tidemark config check`: validate the inventory and show what Tidemark understood.
import type { Inventory } from '../inventory/schema.js';
import {
  resolveHost,
  resolveMonitoring,
  resolveRetention,
  resolveTemporal,
  serverTimeZone,
} from '../inventory/resolve.js';
import { describeConnection } from '../inventory/temporal.js';
import { resolveNotifyTargets } from '../notify/targets.js';
import { shortDuration } from '../domain/schedule-spec.js';
import { hostTimings } from '../schedule/desired.js';
import { formatInZone, upcomingRuns } from '../schedule/next-runs.js';
import { describePolicy } from './snapshots.js';

/** How many upcoming starts are shown per (host, server). */
const upcomingCount = 3;

export function describeInventory(inventory: Inventory, path: string, now = new Date()): string {
  const temporal = resolveTemporal(inventory);
  const lines = [
    `${path}: valid`,
    `temporal: ${describeConnection(temporal)}, namespace ${temporal.namespace} (UI ${temporal.uiUrl})`,
  ];
  lines.push(`servers (${Object.keys(inventory.servers).length}):`);
  for (const [name, server] of Object.entries(inventory.servers)) {
    const adopted = [server.adopt?.sown ? 'SOWN' : '', server.adopt?.planb ? 'PlanB' : ''].filter(Boolean);
    lines.push(
      `  ${name}: dataset ${server.dataset}, ${server.concurrency ?? 2} transfers at once${adopted.length > 0 ? `, adopts ${adopted.join(' and ')} snapshots` : ''}`,
    );
    const targets = resolveNotifyTargets(inventory, name);
    const monitoring = resolveMonitoring(inventory, name);
    lines.push(
      `    notify: ${targets.map(({ id, target }) => `${target.type} (${id})`).join(', ') || 'none'}; metrics ${monitoring.metrics ?? 'off'}; state ${monitoring.stateFile}`,
    );
  }
  lines.push(`hosts (${Object.keys(inventory.hosts).length}):`);
  const zone = serverTimeZone();
  for (const name of Object.keys(inventory.hosts)) {
    const host = resolveHost(inventory, name);
    lines.push(
      `  ${name}: ${host.user}@${host.address}:${host.port}${host.sudo ? ' (sudo)' : ''} paths ${host.paths.join(' ')} → ${host.servers.join(', ')}`,
    );
    lines.push(`    retention: ${describePolicy(resolveRetention(inventory, name, zone), {})}`);
    for (const { server, timing } of hostTimings(inventory, name))
      lines.push(`    schedule on ${server}: ${describeTiming(timing, now)}`);
  }
  return lines.join('\n');
}

/** "daily 02:17+30m Europe/Amsterdam; next (Europe/Amsterdam) 2026-12-02 02:17 +01:00, ...; each start up to 30m later (jitter)". */
function describeTiming(result: ReturnType<typeof hostTimings>[number]['timing'], now: Date): string {
  if (!result.ok) return `cannot be planned: ${result.error}`;
  const { timing } = result;
  if (!timing.enabled) return `${timing.summary}; no runs while enabled: false`;
  const runs = upcomingRuns(timing, now, upcomingCount).map((time) => formatInZone(time, timing.timezone));
  const jitter = timing.jitterMs > 0 ? `; each start up to ${shortDuration(timing.jitterMs)} later (jitter)` : '';
  return `${timing.summary}; next (${timing.timezone}) ${runs.join(', ') || 'none found'}${jitter}`;
}
