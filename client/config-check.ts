// `tidemark config check [--json]`: validate the inventory and show what Tidemark understood.
import type { RetentionPolicy } from '../domain/retention.js';
import type { Inventory } from '../inventory/schema.js';
import { deprecationWarnings } from '../inventory/deprecations.js';
import {
  resolveHost,
  resolveTimeZones,
  resolveMonitoring,
  resolveRetention,
  resolveTemporal,
} from '../inventory/resolve.js';
import { describeConnection } from '../inventory/temporal.js';
import { resolveNotifyTargets } from '../notify/targets.js';
import { shortDuration } from '../domain/schedule-spec.js';
import { hostTimings } from '../schedule/desired.js';
import { formatInZone, upcomingRuns } from '../schedule/next-runs.js';
import { describePolicy } from './snapshots.js';

/** How many upcoming starts are shown per (host, server). */
const upcomingCount = 3;

/** What `config check --json` prints: the inventory as Tidemark resolved it (no secrets: targets by id). */
export interface InventoryReport {
  path: string;
  valid: true;
  /** Deprecated fields in use, each naming the field to write instead. */
  warnings: string[];
  temporal: { address: string; namespace: string; uiUrl: string };
  servers: Array<{
    name: string;
    dataset: string;
    concurrency: number;
    adopts: string[];
    notify: Array<{ id: string; type: string }>;
    metrics: string | null;
    stateFile: string;
  }>;
  hosts: Array<{
    name: string;
    user: string;
    address: string;
    port: number;
    sudo: boolean;
    paths: string[];
    /** "mounts": every local filesystem under `paths[0]` (the selection root) in the mount table at backup
     * time; "explicit": exactly `paths`. */
    selection: 'mounts' | 'explicit';
    /** The PlanB-style allow-list under the selection root, when set. */
    include: string[] | null;
    servers: string[];
    /** The zones the schedule and retention use (`timezone`, default UTC). */
    timezone: { schedule: string; retention: string; fromDefault: boolean };
    retention: RetentionPolicy;
    schedules: Array<ScheduleReport>;
  }>;
}

/** One (host, server) cadence: the next starts as ISO times, or why it cannot be planned. */
export type ScheduleReport =
  | { server: string; summary: string; timezone: string; enabled: boolean; jitterMs: number; next: string[] }
  | { server: string; error: string };

export function inventoryReport(inventory: Inventory, path: string, now = new Date()): InventoryReport {
  const temporal = resolveTemporal(inventory);
  return {
    path,
    valid: true,
    warnings: deprecationWarnings(inventory),
    temporal: { address: describeConnection(temporal), namespace: temporal.namespace, uiUrl: temporal.uiUrl },
    servers: Object.entries(inventory.servers).map(([name, server]) => {
      const monitoring = resolveMonitoring(inventory, name);
      return {
        name,
        dataset: server.dataset,
        concurrency: server.concurrency ?? 2,
        adopts: [server.adopt?.sown ? 'SOWN' : '', server.adopt?.planb ? 'PlanB' : ''].filter(Boolean),
        notify: resolveNotifyTargets(inventory, name).map(({ id, target }) => ({ id, type: target.type })),
        metrics: monitoring.metrics ?? null,
        stateFile: monitoring.stateFile,
      };
    }),
    hosts: Object.keys(inventory.hosts).map((name) => {
      const host = resolveHost(inventory, name);
      return {
        name,
        user: host.user,
        address: host.address,
        port: host.port,
        sudo: host.sudo === true,
        ...(host.hostSteps.selection.mode === 'mounts'
          ? { paths: [host.hostSteps.selection.root], selection: 'mounts' as const }
          : { paths: host.paths, selection: 'explicit' as const }),
        include: host.include?.items ?? null,
        servers: host.servers,
        timezone: {
          ...resolveTimeZones(inventory, name),
          fromDefault: inventory.hosts[name]?.timezone === undefined && inventory.defaults?.timezone === undefined,
        },
        retention: resolveRetention(inventory, name),
        schedules: hostTimings(inventory, name).map(({ server, timing: result }): ScheduleReport => {
          if (!result.ok) return { server, error: result.error };
          const { timing } = result;
          const next = upcomingRuns(timing, now, upcomingCount).map((time) => time.toISOString());
          return {
            server,
            summary: timing.summary,
            timezone: timing.timezone,
            enabled: timing.enabled,
            jitterMs: timing.jitterMs,
            next,
          };
        }),
      };
    }),
  };
}

export function describeInventory(inventory: Inventory, path: string, now = new Date()): string {
  const report = inventoryReport(inventory, path, now);
  const { temporal } = report;
  const lines = [
    `${path}: valid`,
    `temporal: ${temporal.address}, namespace ${temporal.namespace} (UI ${temporal.uiUrl})`,
  ];
  lines.push(`servers (${report.servers.length}):`);
  for (const server of report.servers) {
    lines.push(
      `  ${server.name}: dataset ${server.dataset}, ${server.concurrency} transfers at once${server.adopts.length > 0 ? `, adopts ${server.adopts.join(' and ')} snapshots` : ''}`,
    );
    lines.push(
      `    notify: ${server.notify.map(({ id, type }) => `${type} (${id})`).join(', ') || 'none'}; metrics ${server.metrics ?? 'off'}; state ${server.stateFile}`,
    );
  }
  lines.push(`hosts (${report.hosts.length}):`);
  for (const host of report.hosts) {
    lines.push(
      `  ${host.name}: ${host.user}@${host.address}:${host.port}${host.sudo ? ' (sudo)' : ''} ${describeSelection(host)} → ${host.servers.join(', ')}`,
    );
    const zone = (name: string) => `zone ${name}${host.timezone.fromDefault ? ' (default)' : ''}`;
    lines.push(`    retention (${zone(host.timezone.retention)}): ${describePolicy(host.retention, {})}`);
    for (const schedule of host.schedules)
      lines.push(`    schedule on ${schedule.server} (${zone(host.timezone.schedule)}): ${describeSchedule(schedule)}`);
  }
  for (const warning of report.warnings) lines.push(`WARNING: ${warning}`);
  return lines.join('\n');
}

/** "paths /etc /srv", or "every local filesystem under / (mount table at backup time)", plus an include list. */
function describeSelection(host: InventoryReport['hosts'][number]): string {
  const base =
    host.selection === 'mounts'
      ? `every local filesystem under ${host.paths[0]} (mount table at backup time)`
      : `paths ${host.paths.join(' ')}`;
  return host.include ? `${base}, only ${host.include.join(' ')}` : base;
}

/** "daily 02:17+30m Europe/Amsterdam; next (Europe/Amsterdam) 2026-12-02 02:17 +01:00, ...; each start up to 30m later (jitter)". */
function describeSchedule(schedule: ScheduleReport): string {
  if ('error' in schedule) return `cannot be planned: ${schedule.error}`;
  if (!schedule.enabled) return `${schedule.summary}; no runs while enabled: false`;
  const runs = schedule.next.map((time) => formatInZone(new Date(time), schedule.timezone));
  const jitter = schedule.jitterMs > 0 ? `; each start up to ${shortDuration(schedule.jitterMs)} later (jitter)` : '';
  return `${schedule.summary}; next (${schedule.timezone}) ${runs.join(', ') || 'none found'}${jitter}`;
}
