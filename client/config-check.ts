// `tidemark config check [--json]`: validate the inventory and show what Tidemark understood.
import type { RetentionPolicy } from '../domain/retention.js';
import type { Inventory } from '../inventory/schema.js';
import { deprecationWarnings } from '../inventory/deprecations.js';
import { NetboxError } from '../inventory/netbox.js';
import { loadHostSources, type SourcedInventory } from '../inventory/sources.js';
import {
  resolveHost,
  resolveSchedule,
  resolveTimeZones,
  resolveMonitoring,
  resolveRetention,
} from '../inventory/resolve.js';
import { resolveTemporal } from '../temporal/settings.js';
import { describeConnection } from '../temporal/settings.js';
import { resolveNotifyTargets } from '../notify/targets.js';
import { shortDuration } from '../domain/schedule-spec.js';
import { hostTimings } from '../schedule/desired.js';
import { formatInZone, upcomingRuns } from '../schedule/next-runs.js';
import { describePolicy } from './snapshot-table.js';

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
  /** NetBox's part: its hosts are listed under `hosts` (source "netbox"); what it skipped; whether it was
   * asked, answered from the kept copy, or could not be read (then its hosts are missing). */
  netbox: { url: string; hosts: number; warnings: string[]; problem: string | null } | null;
  hosts: Array<{
    name: string;
    /** "yaml": the inventory file defines it; "netbox": only NetBox does (custom fields over `defaults`). */
    source: 'yaml' | 'netbox';
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
    excludes: string[];
    blackout: string[];
    /** The zones the schedule and retention use (`timezone`, default UTC), and which of them nothing set. */
    timezone: { schedule: string; retention: string; defaulted: Array<'schedule' | 'retention'> };
    retention: RetentionPolicy;
    schedules: Array<ScheduleReport>;
  }>;
}

/** One (host, server) cadence: the next starts as ISO times, or why it cannot be planned. */
export type ScheduleReport =
  | { server: string; summary: string; timezone: string; enabled: boolean; jitterMs: number; next: string[] }
  | { server: string; error: string };

/** NetBox's hosts merged in by the rules every verb uses; `problem`: NetBox could not be read. */
export interface NetboxPart {
  sourced?: SourcedInventory;
  problem?: string;
}

/** The inventory with NetBox's hosts, the kept answer standing in during an outage; a NetBox failure is one
 * line in the report (the file itself is still checked). */
export async function withNetboxHosts(inventory: Inventory): Promise<NetboxPart> {
  if (!inventory.netbox) return {};
  try {
    return { sourced: await loadHostSources(inventory, process.env, { useKept: true }) };
  } catch (error) {
    if (error instanceof NetboxError) return { problem: `NetBox hosts not listed: ${error.message}` };
    throw error;
  }
}

export function inventoryReport(
  file: Inventory,
  path: string,
  now = new Date(),
  netboxPart: NetboxPart = {},
): InventoryReport {
  const inventory = netboxPart.sourced?.inventory ?? file;
  const temporal = resolveTemporal(inventory);
  return {
    path,
    valid: true,
    warnings: [...deprecationWarnings(inventory), ...(netboxPart.sourced?.outage ?? [])],
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
    netbox: inventory.netbox
      ? {
          url: inventory.netbox.url,
          hosts: Object.keys(inventory.hosts).filter((name) => !Object.hasOwn(file.hosts, name)).length,
          warnings: netboxPart.sourced?.warnings ?? [],
          problem: netboxPart.problem ?? null,
        }
      : null,
    hosts: Object.keys(inventory.hosts).map((name) => {
      const host = resolveHost(inventory, name);
      const schedule = resolveSchedule(inventory, name);
      return {
        name,
        source: Object.hasOwn(file.hosts, name) ? ('yaml' as const) : ('netbox' as const),
        user: host.user,
        address: host.address,
        port: host.port,
        sudo: host.sudo === true,
        ...(host.hostSteps.selection.mode === 'mounts'
          ? { paths: [host.hostSteps.selection.root], selection: 'mounts' as const }
          : { paths: host.paths, selection: 'explicit' as const }),
        include: host.include?.items ?? null,
        servers: host.servers,
        excludes: host.excludes,
        blackout: schedule.blackout,
        timezone: { ...resolveTimeZones(inventory, name), defaulted: defaultedZones(inventory, name) },
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

/** Which of a host's zones come from no setting at all (UTC by default). */
function defaultedZones(inventory: Inventory, host: string): Array<'schedule' | 'retention'> {
  const layers = [inventory.hosts[host], inventory.defaults];
  const schedule = layers.every((layer) => layer?.timezone === undefined);
  const retention = schedule && layers.every((layer) => layer?.retention?.timeZone === undefined);
  return [...(schedule ? ['schedule' as const] : []), ...(retention ? ['retention' as const] : [])];
}

export function describeInventory(
  inventory: Inventory,
  path: string,
  now = new Date(),
  netboxPart: NetboxPart = {},
): string {
  const report = inventoryReport(inventory, path, now, netboxPart);
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
  if (report.netbox)
    lines.push(
      `netbox: ${report.netbox.url}: ${report.netbox.problem ? 'not read' : `${report.netbox.hosts} host${report.netbox.hosts === 1 ? '' : 's'} only NetBox defines (marked [netbox])`}`,
    );
  lines.push(`hosts (${report.hosts.length}):`);
  for (const host of report.hosts) {
    lines.push(
      `  ${host.name}${host.source === 'netbox' ? ' [netbox]' : ''}: ${host.user}@${host.address}:${host.port}${host.sudo ? ' (sudo)' : ''} ${describeSelection(host)} → ${host.servers.join(', ')}`,
    );
    if (host.excludes.length > 0 || host.blackout.length > 0)
      lines.push(`    excludes: ${host.excludes.join(' ') || 'none'}; blackout: ${host.blackout.join(', ') || 'none'}`);
    const zone = (use: 'schedule' | 'retention') =>
      `zone ${host.timezone[use]}${host.timezone.defaulted.includes(use) ? ' (default)' : ''}`;
    lines.push(`    retention (${zone('retention')}): ${describePolicy(host.retention, {})}`);
    for (const schedule of host.schedules)
      lines.push(`    schedule on ${schedule.server} (${zone('schedule')}): ${describeSchedule(schedule)}`);
  }
  for (const warning of [...report.warnings, ...(report.netbox?.warnings ?? [])]) lines.push(`WARNING: ${warning}`);
  if (report.netbox?.problem) lines.push(`WARNING: ${report.netbox.problem}`);
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
