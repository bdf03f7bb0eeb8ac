// The pool side of replication (docs/how-to/off-site-copies.md): snapshot listings with guids, the
// replication base each side protects from its own retention, and the marks a received copy carries.
// Only commands both OpenZFS and zfs-fuse accept; receive resume tokens are detected, not assumed.
import { replicaOriginProperty, type ReplicaSnapshot } from '../domain/replication.js';
import { getOneLevel, runPoolTool, zfs, zfsWhenIdle } from './zfs.js';
import { ownerProperty } from './owner.js';

const basePrefix = 'tidemark:replica-base.';

/** Snapshots of exactly `dataset` with their guids, oldest first; [] when the dataset does not exist. */
export async function listReplicaSnapshots(dataset: string): Promise<ReplicaSnapshot[]> {
  const exists = await runPoolTool('zfs', ['list', '-H', '-o', 'name', dataset]);
  if (exists.exitCode !== 0) {
    if (/does not exist/.test(exists.stderr)) return [];
    throw new Error(`zfs list ${dataset}: ${exists.stderr.trim()}`);
  }
  const byName = new Map<string, ReplicaSnapshot & { createdAt: number }>();
  for (const { name: fullName, property, value } of await getOneLevel(dataset, ['guid', 'creation'])) {
    const [owner, name] = fullName.split('@');
    if (owner !== dataset || name === undefined) continue;
    const entry = byName.get(name) ?? { name, guid: '', createdAt: 0 };
    if (property === 'guid') entry.guid = value;
    if (property === 'creation') entry.createdAt = Number(value);
    byName.set(name, entry);
  }
  return [...byName.values()]
    .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name))
    .map(({ name, guid }) => ({ name, guid }));
}

/** The snapshots of `dataset` that are a replication base (peer server → snapshot name). */
export async function replicationBases(dataset: string): Promise<Map<string, string>> {
  const result = await runPoolTool('zfs', ['get', '-H', '-o', 'property,value,source', 'all', dataset]);
  const bases = new Map<string, string>();
  if (result.exitCode !== 0) return bases;
  for (const line of result.stdout.split('\n')) {
    const [property = '', value = '', source = ''] = line.split('\t');
    if (property.startsWith(basePrefix) && source === 'local' && value !== '-')
      bases.set(property.slice(basePrefix.length), value);
  }
  return bases;
}

/** Records `snapshot` as the last one common with `peer` (on the source: received by the target; on the
 * target: received from the source). Retention on that side then keeps it. */
export async function setReplicationBase(dataset: string, peer: string, snapshot: string): Promise<void> {
  await zfs(['set', `${basePrefix}${peer.toLowerCase()}=${snapshot}`, dataset]);
}

/** After a receive: the copy is read-only (ZFS itself refuses writes), and the dataset and each snapshot
 * received name the server they came from. */
export async function markReceived(dataset: string, source: string, received: readonly string[]): Promise<void> {
  await zfs(['set', 'readonly=on', dataset]);
  await zfs(['set', `${replicaOriginProperty}=${source}`, dataset]);
  for (const name of received) await zfs(['set', `${replicaOriginProperty}=${source}`, `${dataset}@${name}`]);
}

/** User property on a replica's dataset: the bytes its newest replication sent (the worker's metrics). */
export const replicaSentProperty = 'tidemark:replica-sent';

export async function recordReplicaSent(dataset: string, bytes: number): Promise<void> {
  await zfs(['set', `${replicaSentProperty}=${bytes}`, dataset]);
}

/** A replica made a dataset this server pulls into (a failover pull): owned by the host, writable. */
export async function openReplica(dataset: string, host: string): Promise<void> {
  await zfs(['set', `${ownerProperty}=${host}`, dataset]);
  await zfs(['set', 'readonly=off', dataset]);
}

/** A replica the inventory no longer replicates: opened for good, no longer marked as a replica (its
 * snapshots keep their origin). */
export async function openReplicaForPulls(dataset: string, host: string): Promise<void> {
  await openReplica(dataset, host);
  await zfs(['inherit', replicaOriginProperty, dataset]);
}

/** The server a dataset's copy is replicated from, or undefined for one this server pulls itself. */
export async function replicaOrigin(dataset: string): Promise<string | undefined> {
  const result = await runPoolTool('zfs', ['get', '-H', '-o', 'value,source', replicaOriginProperty, dataset]);
  const [value = '-', source = ''] = result.stdout.trim().split('\t');
  return result.exitCode === 0 && source === 'local' && value !== '-' ? value : undefined;
}

export interface ReceiveResume {
  /** The pool knows receive resume tokens (OpenZFS 0.7+; not zfs-fuse). */
  supported: boolean;
  /** A token left by an interrupted resumable receive, to continue with `zfs send -t`. */
  token?: string;
}

/** Feature detection: asks for `receive_resume_token`, which pools without resumable receive do not know. */
export async function receiveResume(dataset: string): Promise<ReceiveResume> {
  const parent = dataset.split('/').slice(0, -1).join('/') || dataset;
  for (const name of [dataset, parent]) {
    const result = await runPoolTool('zfs', ['get', '-H', '-o', 'value', 'receive_resume_token', name]);
    if (result.exitCode === 0) {
      const token = result.stdout.trim();
      return { supported: true, ...(name === dataset && token !== '-' && token !== '' ? { token } : {}) };
    }
    if (/invalid property|bad property/.test(result.stderr)) return { supported: false };
  }
  return { supported: false };
}

/**
 * Sets a diverged history aside without destroying anything: `dataset` is renamed to `aside`; with a
 * common snapshot, `dataset` is made again as a clone of `aside@common` and promoted, so it holds every
 * snapshot up to the common one (an incremental receive continues there) and `aside` keeps only what came
 * after (the failover pulls). Without one, `dataset` is gone and the next receive is a full one.
 */
export async function setAsideDiverged(
  dataset: string,
  aside: string,
  source: string,
  common: string | undefined,
): Promise<void> {
  await runPoolTool('zfs', ['umount', dataset]);
  await zfsWhenIdle(['rename', dataset, aside]);
  await zfs(['set', 'readonly=on', aside]);
  if (!common) return;
  await zfsWhenIdle(['clone', `${aside}@${common}`, dataset]);
  await zfsWhenIdle(['promote', dataset]);
  await zfs(['set', 'readonly=on', dataset]);
  await zfs(['set', `${replicaOriginProperty}=${source}`, dataset]);
  await setReplicationBase(dataset, source, common);
}

/** Each snapshot of `dataset` received by replication → the server it came from (others: pulled here). */
export async function snapshotOrigins(dataset: string): Promise<Map<string, string>> {
  const origins = new Map<string, string>();
  for (const { name, value, source } of await getOneLevel(dataset, [replicaOriginProperty])) {
    const [owner, snapshot] = name.split('@');
    if (owner === dataset && snapshot !== undefined && source === 'local' && value !== '-')
      origins.set(snapshot, value);
  }
  return origins;
}
