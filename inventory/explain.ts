// `config check --explain HOST`: each setting a host ends up with and where it came from — the host's own
// entry, NetBox's custom fields, its group, `defaults`, or the built-in default.
import { mergedMappings, type HostOrigin } from './groups.js';
import { hostEntry, resolveHost, resolveRetention, resolveSchedule } from './resolve.js';
import { explainReplicationSource } from './replication.js';
import type { Inventory } from './schema.js';

export type SettingOrigin =
  'host' | 'netbox' | `group ${string}` | `server ${string}` | 'defaults' | 'built-in default';

export interface ExplainedSetting {
  /** The field as written in a host entry, e.g. "retention.daily" or "transfer.attempts". */
  setting: string;
  value: unknown;
  /** Where the value came from; lists that add up (excludes) name every layer that gave items. */
  origin: SettingOrigin | SettingOrigin[];
}

type Layer = Record<string, unknown> | undefined;

/** The built-in values of the settings nothing set (the ones resolve.ts fills in). */
function builtIns(inventory: Inventory, host: string): Record<string, unknown> {
  const resolved = resolveHost(inventory, host);
  const schedule = resolveSchedule(inventory, host);
  const retention = resolveRetention(inventory, host);
  return {
    port: resolved.port,
    user: resolved.user,
    sudo: resolved.sudo,
    paths: resolved.paths,
    servers: resolved.servers,
    replicateFrom: false,
    excludes: [],
    schedule: schedule.schedule,
    timezone: schedule.timezone,
    blackout: schedule.blackout,
    enabled: schedule.enabled,
    ...Object.fromEntries(
      Object.entries(retention)
        .filter(([key]) => key !== 'timeZone')
        .map(([key, value]) => [`retention.${key}`, value]),
    ),
  };
}

/** Every setting of the host that anything sets, plus the main built-in ones, each with its origin. */
export function explainHost(inventory: Inventory, host: string): ExplainedSetting[] {
  const name = host.toLowerCase();
  const entry = hostEntry(inventory, name);
  // resolveHost throws UNKNOWN_HOST (with the known names) for a host that is not there.
  const defaults = builtIns(inventory, name);
  const origin: HostOrigin = inventory.hostOrigins?.[name] ?? { own: (entry ?? {}) as Record<string, unknown> };
  const group = origin.group !== undefined ? (inventory.groups?.[origin.group] as Layer) : undefined;
  const layers: Array<[SettingOrigin, Layer]> = [
    ['host', origin.own],
    ...(origin.group !== undefined
      ? [[`group ${origin.group}` as SettingOrigin, group] as [SettingOrigin, Layer]]
      : []),
    ['defaults', inventory.defaults as Layer],
  ];
  const ownOrigin = (field: string): SettingOrigin => (origin.netboxFields?.includes(field) ? 'netbox' : 'host');
  const settings = new Set<string>(Object.keys(defaults));
  for (const [, layer] of layers)
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (key === 'address' || key === 'group') continue;
      if ((mergedMappings as readonly string[]).includes(key) && value && typeof value === 'object')
        for (const inner of Object.keys(value)) settings.add(`${key}.${inner}`);
      else settings.add(key);
    }
  const read = (layer: Layer, setting: string): unknown => {
    const [key, inner] = setting.split('.') as [string, string | undefined];
    const value = layer?.[key];
    return inner === undefined ? value : (value as Layer)?.[inner];
  };
  const explained: ExplainedSetting[] = [];
  for (const setting of [...settings].sort()) {
    if (setting === 'replicateFrom') {
      explained.push(explainReplication(inventory, name));
      continue;
    }
    if (setting === 'excludes') {
      const from = layers.filter(([, layer]) => Array.isArray(layer?.excludes) && (layer.excludes as []).length > 0);
      explained.push({
        setting,
        value: from.reverse().flatMap(([, layer]) => layer!.excludes as string[]),
        origin:
          from.length > 0
            ? from.map(([where]) => (where === 'host' ? ownOrigin('excludes') : where))
            : 'built-in default',
      });
      continue;
    }
    const found = layers.find(([, layer]) => read(layer, setting) !== undefined);
    if (found) {
      const where = found[0] === 'host' ? ownOrigin(setting.split('.')[0]!) : found[0];
      explained.push({ setting, value: shown(setting, read(found[1], setting)), origin: where });
    } else explained.push({ setting, value: defaults[setting], origin: 'built-in default' });
  }
  return explained;
}

/** Which of the host's servers take their copy by replication, and from whom (target: source; false: every
 * server pulls): the host's or its group's `replicateFrom` over each server's own. */
function explainReplication(inventory: Inventory, host: string): ExplainedSetting {
  const each = resolveHost(inventory, host).servers.map((target) => ({
    target,
    ...explainReplicationSource(inventory, host, target),
  }));
  const replicated = each.filter((entry) => entry.source !== undefined);
  const origins = [...new Set(each.flatMap((entry) => (entry.origin === 'none' ? [] : [entry.origin])))];
  return {
    setting: 'replicateFrom',
    value: replicated.length > 0 ? Object.fromEntries(replicated.map((entry) => [entry.target, entry.source])) : false,
    origin: origins.length === 0 ? 'built-in default' : origins.length === 1 ? origins[0]! : origins,
  };
}

/** Notify targets by type only: their settings may name credentials' files and addresses. */
function shown(setting: string, value: unknown): unknown {
  if (setting !== 'notify' || !Array.isArray(value)) return value;
  return value.map((target: { type?: string }) => target.type);
}

/** One line per setting: `retention.daily = 7  (group office)`. */
export function describeExplanation(host: string, explained: readonly ExplainedSetting[]): string {
  const width = Math.max(...explained.map((item) => item.setting.length));
  return [
    `${host}: effective settings and where each comes from (host > group > defaults > built-in default)`,
    ...explained.map(
      ({ setting, value, origin }) =>
        `  ${setting.padEnd(width)} = ${value === undefined ? '(unset)' : JSON.stringify(value)}  (${Array.isArray(origin) ? origin.join(' + ') : origin})`,
    ),
  ].join('\n');
}
