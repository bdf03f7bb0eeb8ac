// A scheduled backup of a host on a server that takes the host's copy by replication (plan.replica):
// while the newest complete snapshot here is younger than failoverAfter, the run pulls nothing (the copy
// comes from the source); past it, the run pulls the host directly into the same dataset (failover),
// which is made writable for it. Switching back is the replication's job (workflows/replicate-host.ts).
import type { BackupPlan } from '../domain/backup.js';
import { formatDuration } from '../domain/duration.js';
import { parseSnapshotName } from '../domain/names.js';
import type { ReplicaRun } from '../domain/replication.js';
import { listReplicaSnapshots, openReplica } from '../pool/replication.js';

export async function decideReplicaRun(plan: BackupPlan, now = Date.now()): Promise<ReplicaRun | undefined> {
  if (!plan.replica) return undefined;
  const { source, failoverAfterMs } = plan.replica;
  const complete = (await listReplicaSnapshots(plan.dataset))
    .map((snapshot) => ({ name: snapshot.name, parsed: parseSnapshotName(snapshot.name) }))
    .filter(({ parsed }) => parsed?.label === 'complete');
  const newest = complete.at(-1);
  const ageMs = newest ? now - newest.parsed!.takenAt.getTime() : null;
  if (ageMs !== null && ageMs < failoverAfterMs) return { mode: 'replicated', source, newest: newest!.name, ageMs };
  const reason = newest
    ? `no complete snapshot from ${source} for ${formatDuration(ageMs!)} (failoverAfter ${formatDuration(failoverAfterMs)}; newest ${newest.name})`
    : `no complete snapshot from ${source} yet`;
  return { mode: 'failover', source, reason };
}

/** Failover: the replica becomes a dataset this server writes (owner set, readonly off); its snapshots stay. */
export async function openForFailover(dataset: string, host: string): Promise<void> {
  const exists = (await listReplicaSnapshots(dataset)).length > 0;
  if (!exists) return;
  await openReplica(dataset, host);
}
