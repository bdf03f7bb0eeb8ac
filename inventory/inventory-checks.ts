// Checks across fields of the inventory (each field on its own is checked by inventory/schema.ts):
// servers named by hosts exist, host names are unique ignoring case, backup servers' datasets do not
// nest, each host's dataset and snapshot names fit ZFS, jitter stays below the interval, and a host's
// exclude list taken together does not empty its copy. Linear in the number of hosts.
import type { z } from 'zod';
import { parseDuration } from '../domain/duration.js';
import { snapshotName } from '../domain/names.js';
import { ExcludeCoverage, excludesEverything } from '../domain/rsync-pattern.js';
import { shortDuration, type ScheduleChoice } from '../domain/schedule-spec.js';
import { hostReplicationChecks, replicationChecks } from './replication-checks.js';

/** The fields these checks read (the parsed inventory before host names are lower-cased). */
interface HostFields {
  servers?: string[] | undefined;
  paths?: string[] | undefined;
  selectionRoot?: string | undefined;
  excludes?: string[] | undefined;
  schedule?: ScheduleChoice | undefined;
  jitter?: string | undefined;
  replicateFrom?: string | false | undefined;
}
interface CheckedInventory {
  servers: Record<string, { dataset: string; replicateFrom?: string | undefined; receive?: unknown }>;
  defaults?: HostFields | undefined;
  groups?: Record<string, HostFields> | undefined;
  hosts: Record<string, HostFields>;
  hostOrigins?: Record<string, { group?: string; own: Record<string, unknown> }> | undefined;
}

/** ZFS refuses names of 256 characters or more, snapshots included (ZFS_MAX_DATASET_NAME_LEN). */
export const zfsNameLimit = 255;
/** The longest snapshot part Tidemark appends: "@tidemark-20261123T091900Z-partial". */
const snapshotSuffixLength = `@${snapshotName(new Date(0), 'partial')}`.length;

export function inventoryChecks(inventory: CheckedInventory, ctx: z.core.$RefinementCtx<unknown>): void {
  const issue = (path: PropertyKey[], message: string, input?: unknown) =>
    ctx.addIssue({
      code: 'custom',
      path: path as (string | number)[],
      message,
      ...(input !== undefined ? { input } : {}),
    });
  const serverNames = Object.keys(inventory.servers);
  const known = new Set(serverNames);
  const checkServers = (servers: string[] | undefined, path: string[]) =>
    servers?.forEach((server, index) => {
      if (!known.has(server))
        issue([...path, index], `unknown server; define it under "servers" (known: ${serverNames.join(', ')})`, server);
    });
  checkServers(inventory.defaults?.servers, ['defaults', 'servers']);
  for (const [group, settings] of Object.entries(inventory.groups ?? {}))
    checkServers(settings.servers, ['groups', group, 'servers']);
  checkNestedDatasets(inventory.servers, issue);
  replicationChecks(inventory.servers, issue);
  hostReplicationChecks(inventory, issue);

  const defaults = inventory.defaults ?? {};
  checkJitter(defaults, defaults, ['defaults'], issue);
  const lowerNames = new Map<string, string>();
  for (const [host, settings] of Object.entries(inventory.hosts)) {
    const path = ['hosts', host];
    checkServers(settings.servers, [...path, 'servers']);
    const lower = host.toLowerCase();
    const first = lowerNames.get(lower);
    if (first !== undefined)
      issue(path, `"${first}" and "${host}" name the same host (host names are case-insensitive); keep one`);
    else lowerNames.set(lower, host);
    for (const server of settings.servers ?? defaults.servers ?? serverNames) {
      const dataset = inventory.servers[server]?.dataset;
      if (dataset === undefined) continue;
      const length = dataset.length + 1 + lower.length;
      if (length + snapshotSuffixLength > zfsNameLimit) {
        issue(
          path,
          `the dataset "${dataset}/${lower}" on server ${server} is ${length} characters and its snapshots add ${snapshotSuffixLength}; ZFS allows ${zfsNameLimit} in all: shorten the host name or servers.${server}.dataset`,
        );
      }
    }
    checkJitter(settings, defaults, path, issue);
    checkExcludeList(settings, defaults, path, issue);
  }
}

type Issue = (path: PropertyKey[], message: string, input?: unknown) => void;

/** One backup server's dataset inside another's would put its host copies where the other keeps (and
 * prunes) its own. Equal names are the usual fleet (each backup server has its own pool, often both
 * called `data`); where two names do share a machine, the dataset lease keeps their runs apart. */
function checkNestedDatasets(servers: Record<string, { dataset: string }>, issue: Issue): void {
  const owner = new Map<string, string>();
  for (const [name, server] of Object.entries(servers)) if (!owner.has(server.dataset)) owner.set(server.dataset, name);
  for (const [name, server] of Object.entries(servers)) {
    const parts = server.dataset.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const parent = parts.slice(0, depth).join('/');
      const other = owner.get(parent);
      if (other !== undefined && other !== name) {
        issue(
          ['servers', name, 'dataset'],
          `dataset "${server.dataset}" lies inside server ${other}'s dataset "${parent}" (where its host copies live); give each backup server a separate dataset`,
        );
      }
    }
  }
}

/** The interval between a schedule's runs; undefined for cron (no single interval). */
export function intervalMs(schedule: ScheduleChoice): number | undefined {
  if (schedule === 'daily') return 86_400_000;
  if (schedule === 'hourly') return 3_600_000;
  return 'every' in schedule ? parseDuration(schedule.every) : undefined;
}

/** A jitter as long as the interval would let runs pile into each other (planTiming refuses it too, but late). */
function checkJitter(settings: HostFields, defaults: HostFields, path: string[], issue: Issue): void {
  const jitter = settings.jitter ?? defaults.jitter;
  if (jitter === undefined) return;
  const jitterMs = parseDuration(jitter);
  const interval = intervalMs(settings.schedule ?? defaults.schedule ?? 'daily');
  if (jitterMs === undefined || interval === undefined || jitterMs < interval) return;
  const from = settings.jitter === undefined ? ' (from defaults)' : '';
  issue(
    [...path, settings.jitter === undefined ? 'schedule' : 'jitter'],
    `jitter ${shortDuration(jitterMs)}${from} must be shorter than the interval ${shortDuration(interval)}`,
  );
}

/** The defaults' and the host's patterns together, judged against the paths the host copies. */
function checkExcludeList(settings: HostFields, defaults: HostFields, path: string[], issue: Issue): void {
  const patterns = [...(defaults.excludes ?? []), ...(settings.excludes ?? [])];
  // A pattern emptying "/" on its own is already refused at its own field.
  if (patterns.length === 0 || patterns.some((pattern) => excludesEverything([pattern]) !== undefined)) return;
  const roots = settings.paths ?? defaults.paths ?? [settings.selectionRoot ?? defaults.selectionRoot ?? '/'];
  const coverage = new ExcludeCoverage(roots);
  for (const pattern of patterns) {
    const problem = coverage.add(pattern);
    if (problem) {
      issue([...path, 'excludes'], `"${pattern}" refused: ${problem}`);
      return;
    }
  }
}
