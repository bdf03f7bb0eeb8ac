// Turns the inventory into fully-defaulted settings: every default lives here, once.
import { parseDuration } from '../domain/duration.js';
import { closestName } from '../domain/suggest.js';
import { TidemarkError } from '../domain/errors.js';
import { defaultHostRestoreRoot } from '../domain/restore-target.js';
import {
  defaultRetentionCounts,
  retentionClasses,
  type AdoptOptions,
  type RetentionPolicy,
} from '../domain/retention.js';
import type { JumpHost, TransferSettings } from '../domain/backup.js';
import type { HostStepsPlan } from '../domain/host-steps.js';
import { defaultGuards, type GuardSettings } from '../domain/guards.js';
import type { ScheduleSettings } from '../domain/schedule-spec.js';
import type { HostEntry, Inventory } from './schema.js';

/** A host's entry, by own property only ("toString" is no host); host names are case-insensitive. */
export function hostEntry(inventory: Pick<Inventory, 'hosts'>, host: string): HostEntry | undefined {
  const name = host.toLowerCase();
  return Object.hasOwn(inventory.hosts, name) ? inventory.hosts[name] : undefined;
}

/** A server's entry, by own property only. */
export function serverEntry(
  inventory: Pick<Inventory, 'servers'>,
  server: string,
): Inventory['servers'][string] | undefined {
  return Object.hasOwn(inventory.servers, server) ? inventory.servers[server] : undefined;
}

/** The problems of a host entry left out by loadInventoryIsolatingHosts (inventory/load.ts), if it was. */
export function invalidHostProblems(inventory: Inventory, host: string): string[] | undefined {
  const invalid = (inventory as { invalidHosts?: Record<string, string[]> }).invalidHosts;
  const name = host.toLowerCase();
  return invalid && Object.hasOwn(invalid, name) ? invalid[name] : undefined;
}

/** Everything needed to back up one host onto one server, with defaults applied. */
export interface ResolvedHost {
  host: string;
  address: string;
  /** Default 22. */
  port: number;
  /** Default "root". */
  user: string;
  /** Default false. */
  sudo: boolean;
  /** Default ["/"]. */
  paths: string[];
  /** Default []. */
  excludes: string[];
  /** Where `restore --to-host` may write on the host; default /var/lib/tidemark/restore (domain/restore.ts). */
  restoreRoot: string;
  /** Default: every server of the inventory. */
  servers: string[];
  /** Hooks, veto, selection and exclude file; see resolveHostSteps for the defaults. */
  hostSteps: Omit<HostStepsPlan, 'server'>;
  /** PlanB-style allow-list under the selection root; default none (everything selected is copied). */
  include?: { root: string; items: string[] };
  /** Defaults: ioTimeoutSeconds 600 ("10m"), heartbeatTimeoutMs 60 000 ("60s"), attempts 5,
   * retryIntervalMs 30 000 ("30s"), no bandwidthLimit. */
  transfer: TransferSettings;
  /** hosts.<name>.quota (or defaults.quota): the dataset's ZFS quota; absent: none set by Tidemark. */
  quota?: string;
  /** ssh.jumpHost: reached through this host; knownHostsFile absent: the inventory's ssh.knownHostsFile. */
  jumpHost?: Omit<JumpHost, 'knownHostsFile'> & { knownHostsFile?: string };
}

type HostSettings = NonNullable<Inventory['defaults']>;

/** Defaults: hooks in /etc/backup-scripts, 30m, continue; veto /var/lib/backup/do-not-run.d, every 1h, 24
 * times; without `paths` every local filesystem under `selectionRoot` ("/"); /etc/backup-exclude.conf;
 * standard excludes on. */
function resolveHostSteps(entry: HostSettings, defaults: HostSettings): Pick<ResolvedHost, 'hostSteps' | 'include'> {
  const hooks = { ...defaults.hooks, ...entry.hooks };
  const veto = { ...defaults.veto, ...entry.veto };
  const root = entry.selectionRoot ?? defaults.selectionRoot ?? '/';
  const include = entry.include ?? defaults.include;
  return {
    hostSteps: {
      hooks: {
        dir: hooks.dir ?? '/etc/backup-scripts/',
        timeoutMs: parseDuration(hooks.timeout ?? '30m') ?? 1_800_000,
        onFailure: hooks.onFailure ?? 'continue',
      },
      veto: {
        dir: veto.dir ?? '/var/lib/backup/do-not-run.d/',
        retryIntervalMs: parseDuration(veto.retryInterval ?? '1h') ?? 3_600_000,
        retries: veto.retries ?? 24,
      },
      selection: {
        mode: (entry.paths ?? defaults.paths) ? 'explicit' : 'mounts',
        root,
        includeNetworkMounts: entry.includeNetworkMounts ?? defaults.includeNetworkMounts ?? false,
        extraTypes: entry.includeFilesystemTypes ?? defaults.includeFilesystemTypes ?? [],
      },
      excludeFile: entry.excludeFile ?? defaults.excludeFile ?? '/etc/backup-exclude.conf',
      standardExcludes: entry.standardExcludes ?? defaults.standardExcludes ?? true,
    },
    ...(include ? { include: { root, items: include } } : {}),
  };
}

/** The backup server's own scripts (`servers.<name>.hooks`); timeout default 30m. */
export function resolveServerHooks(inventory: Inventory, server: string): HostStepsPlan['server'] {
  const hooks = serverEntry(inventory, server)?.hooks ?? {};
  return {
    ...(hooks.before ? { before: hooks.before } : {}),
    ...(hooks.after ? { after: hooks.after } : {}),
    timeoutMs: parseDuration(hooks.timeout ?? '30m') ?? 1_800_000,
  };
}

export interface SshSettings {
  /** Default /etc/tidemark/id_ed25519. */
  identityFile: string;
  /** Default /etc/tidemark/known_hosts. */
  knownHostsFile: string;
  /** Default true. */
  multiplex: boolean;
  /** Default undefined: chosen on the backup server (activities/ssh-control-dir.ts defaultControlDir). */
  controlDir?: string;
}

export function resolveSsh(inventory: Inventory): SshSettings {
  return {
    identityFile: inventory.ssh?.identityFile ?? '/etc/tidemark/id_ed25519',
    knownHostsFile: inventory.ssh?.knownHostsFile ?? '/etc/tidemark/known_hosts',
    multiplex: inventory.ssh?.multiplex ?? true,
    ...(inventory.ssh?.controlDir ? { controlDir: inventory.ssh.controlDir } : {}),
  };
}

/** The host's settings merged over `defaults`; throws UNKNOWN_HOST naming the known hosts. */
export function resolveHost(inventory: Inventory, host: string): ResolvedHost {
  const invalid = invalidHostProblems(inventory, host);
  if (invalid)
    throw new TidemarkError(
      'CONFIG_INVALID',
      `host "${host.toLowerCase()}": its inventory entry does not validate, fix it: ${invalid.join('; ')}`,
    );
  const entry = hostEntry(inventory, host);
  if (!entry) {
    const known = Object.keys(inventory.hosts);
    throw new TidemarkError(
      'UNKNOWN_HOST',
      `--host: "${host}" is not in the inventory${suggestion(host, known)} (${known.length > 0 ? `known: ${known.slice(0, 20).join(', ')}` : 'it has no hosts'})`,
    );
  }
  const defaults = inventory.defaults ?? {};
  const transfer = { ...defaults.transfer, ...entry.transfer };
  const jump = entry.ssh?.jumpHost ?? defaults.ssh?.jumpHost;
  return {
    host: host.toLowerCase(),
    address: entry.address,
    port: entry.port ?? defaults.port ?? 22,
    user: entry.user ?? defaults.user ?? 'root',
    sudo: entry.sudo ?? defaults.sudo ?? false,
    paths: entry.paths ?? defaults.paths ?? ['/'],
    excludes: [...(defaults.excludes ?? []), ...(entry.excludes ?? [])],
    servers: entry.servers ?? defaults.servers ?? Object.keys(inventory.servers),
    ...resolveHostSteps(entry, defaults),
    restoreRoot: entry.restoreRoot ?? defaults.restoreRoot ?? defaultHostRestoreRoot,
    ...((entry.quota ?? defaults.quota) ? { quota: entry.quota ?? defaults.quota } : {}),
    transfer: {
      ioTimeoutSeconds: Math.ceil((parseDuration(transfer.ioTimeout ?? '10m') ?? 600_000) / 1000),
      heartbeatTimeoutMs: parseDuration(transfer.heartbeatTimeout ?? '60s') ?? 60_000,
      attempts: transfer.attempts ?? 5,
      retryIntervalMs: parseDuration(transfer.retryInterval ?? '30s') ?? 30_000,
      ...(transfer.bandwidthLimit ? { bandwidthLimit: transfer.bandwidthLimit } : {}),
      ...(transfer.rsyncOptions?.length ? { rsyncOptions: transfer.rsyncOptions } : {}),
      ...(transfer.ionice ? { ionice: transfer.ionice } : {}),
      ...(transfer.nice !== undefined ? { nice: transfer.nice } : {}),
      ...(transfer.checksumEvery ? { checksumEveryMs: parseDuration(transfer.checksumEvery) ?? 0 } : {}),
    },
    ...(jump
      ? {
          jumpHost: {
            address: jump.address,
            port: jump.port ?? 22,
            user: jump.user ?? entry.user ?? defaults.user ?? 'root',
            ...(jump.knownHostsFile ? { knownHostsFile: jump.knownHostsFile } : {}),
          },
        }
      : {}),
  };
}

/** The server entry; throws USAGE naming the servers this host is backed up on. `adopt`: default none. */
export function resolveServer(
  inventory: Inventory,
  host: ResolvedHost,
  server: string,
): { dataset: string; concurrency: number; adopt: AdoptOptions } {
  const entry = serverEntry(inventory, server);
  if (!entry || !host.servers.includes(server)) {
    throw new TidemarkError(
      'USAGE',
      `--server: host "${host.host}" is not backed up on "${server}" (its servers: ${host.servers.join(', ')})`,
    );
  }
  return {
    dataset: entry.dataset,
    concurrency: entry.concurrency ?? 2,
    adopt: { sown: entry.adopt?.sown ?? false, planb: entry.adopt?.planb ?? false },
  };
}

/** The zone of a host's schedule and retention: `timezone` (host, else defaults), default UTC. The deprecated
 * `retention.timeZone` still wins for retention, most specific first (inventory/deprecations.ts warns). */
export function resolveTimeZones(inventory: Inventory, host: string): { schedule: string; retention: string } {
  const entry = hostEntry(inventory, host);
  const defaults = inventory.defaults;
  const schedule = entry?.timezone ?? defaults?.timezone ?? 'UTC';
  const retention = entry?.retention?.timeZone ?? entry?.timezone ?? defaults?.retention?.timeZone ?? schedule;
  return { schedule, retention };
}

/** The host's retention policy: its fields over `defaults.retention`; the default counts when no class is
 * set anywhere; the zone from resolveTimeZones. */
export function resolveRetention(inventory: Inventory, host: string): RetentionPolicy {
  // The schema checked every field (inventory/schema.ts); this only merges and fills in defaults.
  const merged = { ...inventory.defaults?.retention, ...hostEntry(inventory, host)?.retention };
  const policy: RetentionPolicy = { timeZone: resolveTimeZones(inventory, host).retention };
  for (const cls of retentionClasses) if (merged[cls] !== undefined) policy[cls] = merged[cls];
  if (!retentionClasses.some((cls) => policy[cls] !== undefined)) Object.assign(policy, defaultRetentionCounts);
  if (merged.keepWithin !== undefined) policy.keepWithin = parseDuration(merged.keepWithin);
  if (merged.weekStartsOn !== undefined) policy.weekStartsOn = merged.weekStartsOn;
  return policy;
}

/** When the host's backups run (domain/schedule-spec.ts): its fields over `defaults`. Defaults: daily,
 * jitter a tenth of the interval (at most 30m; none for cron), UTC, no blackout, enabled. */
export function resolveSchedule(inventory: Inventory, host: string): ScheduleSettings {
  const entry: NonNullable<Inventory['defaults']> = hostEntry(inventory, host) ?? {};
  const defaults: NonNullable<Inventory['defaults']> = inventory.defaults ?? {};
  const jitter = entry.jitter ?? defaults.jitter;
  return {
    schedule: entry.schedule ?? defaults.schedule ?? 'daily',
    ...(jitter !== undefined ? { jitter } : {}),
    timezone: resolveTimeZones(inventory, host).schedule,
    blackout: entry.blackout ?? defaults.blackout ?? [],
    enabled: entry.enabled ?? defaults.enabled ?? true,
  };
}

/** Multiples of the schedule interval after which `status` calls a pair's last success stale: the host's
 * setting, else `defaults`, else the server's; absent ones take client/fleet-verdict.ts's defaults (2, 4). */
export function resolveStaleness(
  inventory: Inventory,
  host: string,
  server: string,
): { staleAfter?: number; criticalAfter?: number } {
  const layers = [hostEntry(inventory, host), inventory.defaults, serverEntry(inventory, server)];
  const staleAfter = layers.find((layer) => layer?.staleAfter !== undefined)?.staleAfter;
  const criticalAfter = layers.find((layer) => layer?.criticalAfter !== undefined)?.criticalAfter;
  return {
    ...(staleAfter !== undefined ? { staleAfter } : {}),
    ...(criticalAfter !== undefined ? { criticalAfter } : {}),
  };
}

/** Monitoring settings of one server's worker: state file default /var/lib/tidemark/state.json, metrics default off. */
export function resolveMonitoring(inventory: Inventory, server: string): { stateFile: string; metrics?: string } {
  const entry = serverEntry(inventory, server);
  return {
    stateFile: entry?.stateFile ?? '/var/lib/tidemark/state.json',
    ...(entry?.metrics ? { metrics: entry.metrics } : {}),
  };
}

/** The host's guards: its fields over `defaults.guards` over domain/guards.ts's defaults. */
export function resolveGuards(inventory: Inventory, host: string): GuardSettings {
  const merged = { ...defaultGuards };
  for (const layer of [inventory.defaults?.guards, hostEntry(inventory, host)?.guards]) {
    for (const [key, value] of Object.entries(layer ?? {}))
      if (value !== undefined) merged[key as keyof GuardSettings] = value;
  }
  return merged;
}

const sizeUnits: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** servers.<name>.reserve (default "5%") as bytes or a percentage of the pool. */
export function resolveReserve(inventory: Inventory, server: string): { bytes?: number; percent?: number } {
  const text = serverEntry(inventory, server)?.reserve ?? '5%';
  if (text.endsWith('%')) return { percent: Number(text.slice(0, -1)) };
  const [, amount = '0', unit = ''] = /^(\d+)([KMGT]?)$/.exec(text) ?? [];
  return { bytes: Number(amount) * (sizeUnits[unit] ?? 1) };
}

function suggestion(typed: string, known: readonly string[]): string {
  const near = closestName(typed, known);
  return near ? `; did you mean "${near}"?` : '';
}

/** A pair's restore drills: each field from the host's entry (its group merged in), else `defaults`, else
 * the server's `verify`; undefined when no layer sets `every` (no drill is scheduled). */
export interface VerifySettings {
  every: string;
  everyMs: number;
  sample: number;
}

export const defaultDrillSample = 200;

export function resolveVerify(inventory: Inventory, host: string, server: string): VerifySettings | undefined {
  const layers = [
    hostEntry(inventory, host)?.verify,
    inventory.defaults?.verify,
    serverEntry(inventory, server)?.verify,
  ];
  const every = layers.find((layer) => layer?.every !== undefined)?.every;
  if (every === undefined) return undefined;
  const sample = layers.find((layer) => layer?.sample !== undefined)?.sample ?? defaultDrillSample;
  return { every, everyMs: parseDuration(every) ?? 0, sample };
}
