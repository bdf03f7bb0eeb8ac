// Replication of a host's snapshots from one backup server to another (docs/how-to/off-site-copies.md):
// what to send, decided from the two snapshot listings alone. Pure: workflows and activities both use it.
import { parseSnapshotName } from './names.js';

/** One snapshot as both sides see it: ZFS keeps a snapshot's guid across send and receive. */
export interface ReplicaSnapshot {
  /** Name after the "@". */
  name: string;
  guid: string;
}

/** Input of replicateHost and of its steps: names only, each server derives the rest from its inventory. */
export interface ReplicationInput {
  host: string;
  /** The server that pulled the host (zfs send runs there). */
  source: string;
  /** The server that takes the copy (zfs receive runs there, behind its filter). */
  target: string;
}

export type SendPlan =
  | { kind: 'up-to-date'; snapshot: string }
  | { kind: 'full'; to: string }
  | { kind: 'incremental'; from: string; to: string }
  /** Nothing to send: the source has no Tidemark snapshot yet. */
  | { kind: 'nothing' }
  /** The target has snapshots the source cannot continue (a failover pull, or the common one pruned). */
  | { kind: 'diverged'; common: string | undefined; targetNewest: string; why: string };

/** `source` and `target` oldest first. Only Tidemark's snapshots are sent: the newest one is the goal, and
 * `zfs send -I` carries every snapshot between the common one and it (partial and suspect ones keep their
 * names, so the target's retention never counts them as good copies). */
export function planSend(source: readonly ReplicaSnapshot[], target: readonly ReplicaSnapshot[]): SendPlan {
  const ours = source.filter((snapshot) => parseSnapshotName(snapshot.name) !== undefined);
  const newest = ours.at(-1);
  if (!newest) return { kind: 'nothing' };
  const onTarget = new Set(target.map((snapshot) => snapshot.guid));
  const common = [...source].reverse().find((snapshot) => onTarget.has(snapshot.guid));
  const targetNewest = target.at(-1);
  if (!targetNewest) return { kind: 'full', to: newest.name };
  if (!common)
    return {
      kind: 'diverged',
      common: undefined,
      targetNewest: targetNewest.name,
      why: `no snapshot of the target is on the source any more (the source pruned ${targetNewest.name})`,
    };
  if (targetNewest.guid !== common.guid)
    return {
      kind: 'diverged',
      common: common.name,
      targetNewest: targetNewest.name,
      why: `the target has snapshots after the common ${common.name} that the source does not have (a failover pull)`,
    };
  if (common.guid === newest.guid || source.indexOf(common) > source.indexOf(newest))
    return { kind: 'up-to-date', snapshot: common.name };
  return { kind: 'incremental', from: common.name, to: newest.name };
}

/** User property on the source's dataset naming the last snapshot `target` received: the source's retention
 * never destroys it (the next incremental starts there). Lower-case: ZFS user property names must be. */
export function replicationBaseProperty(target: string): string {
  return `tidemark:replica-base.${target.toLowerCase()}`;
}

/** User property on a received snapshot (and on the target's dataset): the server it came from. */
export const replicaOriginProperty = 'tidemark:replica-of';

export function replicationWorkflowId(host: string, target: string): string {
  return `replicate:${host}@${target}`;
}
