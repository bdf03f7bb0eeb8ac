// Host groups: a host naming `group: G` takes `groups.G`'s settings under its own, over `defaults`
// (defaults < group < host). The merge happens once, when the inventory is validated: everything that
// reads a host entry afterwards sees the group's settings in it. What the host set itself is kept beside
// it (hostOrigins), so `config check --explain` can say where each setting came from.
import type { z } from 'zod';
import { TidemarkError } from '../domain/errors.js';
import { closestName } from '../domain/suggest.js';

/** Settings that are mappings: their fields merge one by one (a host's `retention.daily` keeps the group's
 * `retention.weekly`). */
export const mergedMappings = ['transfer', 'retention', 'guards', 'hooks', 'veto', 'ssh', 'verify'] as const;
/** Lists that add up, as `defaults.excludes` does: the group's patterns first, then the host's. */
export const addedLists = ['excludes'] as const;

/** Where a host's own settings came from. */
export interface HostOrigin {
  /** The group it names, if any. */
  group?: string;
  /** The entry as the host itself (or NetBox) wrote it, before the group was merged in. */
  own: Record<string, unknown>;
  /** The fields NetBox's custom fields set (NetBox hosts only). */
  netboxFields?: string[];
}

type Settings = Record<string, unknown>;
interface GroupedInventory {
  groups?: Record<string, Settings> | undefined;
  hosts: Record<string, Settings & { group?: string | undefined }>;
}

/** `group` over `host`: the host's own values win, mappings merge field by field, excludes add up. */
export function mergeGroup(group: Settings, host: Settings): Settings {
  const merged: Settings = { ...group, ...host };
  for (const key of mergedMappings)
    if (group[key] !== undefined && host[key] !== undefined)
      merged[key] = { ...(group[key] as Settings), ...(host[key] as Settings) };
  for (const key of addedLists)
    if (group[key] !== undefined && host[key] !== undefined)
      merged[key] = [...(group[key] as unknown[]), ...(host[key] as unknown[])];
  return merged;
}

/** The zod transform: every host with `group:` gets its group merged in; an unknown group is a problem of
 * that host's `group` field only (so loadInventoryIsolatingHosts leaves out just that host). */
export function applyGroups<T extends GroupedInventory>(
  inventory: T,
  ctx: z.core.$RefinementCtx<unknown>,
): T & { hostOrigins?: Record<string, HostOrigin> } {
  const groups = inventory.groups ?? {};
  const known = Object.keys(groups);
  const hosts: Record<string, Settings> = {};
  const hostOrigins: Record<string, HostOrigin> = {};
  let grouped = false;
  for (const [name, entry] of Object.entries(inventory.hosts)) {
    const group = entry.group;
    if (group === undefined) {
      hosts[name] = entry;
      continue;
    }
    if (!Object.hasOwn(groups, group)) {
      ctx.addIssue({
        code: 'custom',
        path: ['hosts', name, 'group'],
        message: unknownGroupMessage(group, known),
        input: group,
      });
      hosts[name] = entry;
      continue;
    }
    grouped = true;
    hosts[name] = mergeGroup(groups[group]!, entry);
    hostOrigins[name] = { group, own: entry };
  }
  if (!grouped) return inventory;
  return { ...inventory, hosts: hosts as T['hosts'], hostOrigins };
}

export function unknownGroupMessage(group: string, known: readonly string[]): string {
  const near = closestName(group, known);
  const list = known.length > 0 ? `known groups: ${known.join(', ')}` : 'the inventory has no `groups:`';
  return `unknown group${near ? `; did you mean "${near}"?` : ''} (${list}); define it under "groups" or fix the name`;
}

/** The hosts naming `group` (for `--group`); USAGE naming the known groups when there is no such group. */
export function hostsOfGroup(
  inventory: { groups?: Record<string, unknown> | undefined; hosts: Record<string, { group?: string | undefined }> },
  group: string,
): Set<string> {
  const known = Object.keys(inventory.groups ?? {});
  if (!known.includes(group)) throw new TidemarkError('USAGE', `--group: ${unknownGroupMessage(group, known)}`);
  return new Set(Object.keys(inventory.hosts).filter((host) => inventory.hosts[host]!.group === group));
}
