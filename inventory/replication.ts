// Who replicates a host to whom (replicateFrom of the host, its group or servers.<target>), and the settings of one (host, source,
// target): every server derives them from its own inventory, from names alone.
import { parseDuration } from '../domain/duration.js';
import { TidemarkError } from '../domain/errors.js';
import type { Inventory } from './schema.js';
import type { RetentionPolicy } from '../domain/retention.js';
import type { HostSsh } from '../domain/backup.js';
import {
  hostEntry,
  resolveHost,
  resolveRetention,
  resolveServer,
  resolveSsh,
  resolveTimeZones,
  serverEntry,
} from './resolve.js';
import { hostDataset } from '../domain/names.js';

/** Default of servers.<target>.replication.failoverAfter. */
export const defaultFailoverAfter = '36h';

/** The servers that take `host`'s copy from `source` by replication (both listed for the host). */
export function replicaTargets(inventory: Inventory, host: string, source: string): string[] {
  const servers = resolveHost(inventory, host).servers;
  if (!servers.includes(source)) return [];
  return servers.filter((server) => replicationSource(inventory, host, server) === source);
}

/** The server `target` replicates `host` from, when both back the host up: the host's (or its group's)
 * `replicateFrom` over the target's `servers.<target>.replicateFrom` (host > group > server). */
export function replicationSource(inventory: Inventory, host: string, target: string): string | undefined {
  return explainReplicationSource(inventory, host, target).source;
}

/** Where a (host, target)'s replication source comes from, for `config check --explain`. */
export type ReplicationSourceOrigin = 'host' | `group ${string}` | `server ${string}` | 'none';

export function explainReplicationSource(
  inventory: Inventory,
  host: string,
  target: string,
): { source?: string; origin: ReplicationSourceOrigin } {
  const servers = resolveHost(inventory, host).servers;
  const own = hostEntry(inventory, host)?.replicateFrom;
  if (own !== undefined) {
    const group = inventory.hostOrigins?.[host.toLowerCase()];
    const origin =
      group?.group !== undefined && group.own.replicateFrom === undefined ? `group ${group.group}` : 'host';
    // The named server pulls; every other server of the host takes its copy from it.
    return own !== false && own !== target && servers.includes(own) && servers.includes(target)
      ? { source: own, origin: origin as ReplicationSourceOrigin }
      : { origin: origin as ReplicationSourceOrigin };
  }
  const from = serverEntry(inventory, target)?.replicateFrom;
  return from !== undefined && servers.includes(from) && servers.includes(target)
    ? { source: from, origin: `server ${target}` }
    : { origin: 'none' };
}

export interface ResolvedReplication {
  host: string;
  sourceDataset: string;
  targetDataset: string;
  /** How the source logs in to the target's receive filter. */
  login: { address: string; port: number; user: string };
  /** hostKeyAlias: the target server's name (its receive sshd's key is listed under it). */
  ssh: HostSsh;
  bandwidthLimit?: string;
  failoverAfterMs: number;
}

/** Refuses (USAGE) a (host, source, target) the inventory does not set up as replication. */
export function resolveReplication(
  inventory: Inventory,
  input: { host: string; source: string; target: string },
): ResolvedReplication {
  const host = resolveHost(inventory, input.host);
  if (replicationSource(inventory, host.host, input.target) !== input.source) {
    throw new TidemarkError(
      'USAGE',
      `host "${host.host}" is not replicated from ${input.source} to ${input.target}: set replicateFrom: ${input.source} on the host (or its group, or servers.${input.target}) and list both servers for the host`,
    );
  }
  const target = serverEntry(inventory, input.target)!;
  const receive = target.receive!;
  const ssh = resolveSsh(inventory);
  return {
    host: host.host,
    sourceDataset: hostDataset(resolveServer(inventory, host, input.source).dataset, host.host),
    targetDataset: hostDataset(resolveServer(inventory, host, input.target).dataset, host.host),
    login: { address: receive.address, port: receive.port ?? 22, user: receive.user ?? 'root' },
    ssh: {
      identityFile: ssh.identityFile,
      knownHostsFile: ssh.knownHostsFile,
      hostKeyAlias: input.target.toLowerCase(),
    },
    ...(target.replication?.bandwidthLimit ? { bandwidthLimit: target.replication.bandwidthLimit } : {}),
    failoverAfterMs: parseDuration(target.replication?.failoverAfter ?? defaultFailoverAfter) ?? 36 * 3_600_000,
  };
}

/** The retention of `host`'s replica on `target`: servers.<target>.replication.retention when set (in full,
 * instead of the host's), else the host's own. */
export function replicaRetention(inventory: Inventory, host: string, target: string): RetentionPolicy {
  const own = serverEntry(inventory, target)?.replication?.retention;
  if (!own) return resolveRetention(inventory, host);
  // The counts are the server's, the zone stays the host's (as for its own snapshots).
  return {
    ...resolveRetention({ ...inventory, defaults: { retention: own }, hosts: {} }, host),
    timeZone: resolveTimeZones(inventory, host).retention,
  };
}
