// A host dataset's snapshots with the retention rule keeping each, planned as a successful backup now would
// prune: what `tidemark snapshots` prints on the backup server and what its worker tells the web console.
import { referenceClass } from '../domain/adopted-names.js';
import type { LocalTarget } from '../domain/host-target.js';
import { planRetention, type RetentionPlan, type SnapshotKind } from '../domain/retention.js';
import { keepReasons } from './keep-hold.js';
import { datasetOwner } from './owner.js';
import { replicationBases, snapshotOrigins } from './replication.js';
import { listSnapshots } from './zfs.js';

export interface SnapshotRow {
  /** Name after the "@". */
  name: string;
  /** `dataset@name`, for zfs commands. */
  snapshot: string;
  /** The time retention uses (from the name when it has one), ISO 8601 UTC. */
  takenAt: string;
  /** zfs creation time, ISO 8601 UTC. */
  createdAt: string;
  /** Bytes unique to this snapshot (what destroying it would free). */
  used: number;
  kind: SnapshotKind;
  /** A reference system's snapshot, by its name: "PlanB run", "PlanB daily", "PlanB keep", "SOWN weekly"; null
   * for any other. Whether retention rotates it is `kind` (foreign: never). */
  adoptedAs: string | null;
  /** zfs holds on it (userrefs); null when unreadable. */
  holds: number | null;
  /** Reason given with --keep, when Tidemark holds it. */
  keepReason: string | null;
  /** False: the next prune destroys it. */
  keep: boolean;
  /** The rules keeping it ("daily 2026-11-20", "newest complete", "held", "foreign", ...). */
  reasons: string[];
  /** The backup server it was replicated from; null for a snapshot taken on this server. */
  origin: string | null;
}

export interface SnapshotReport extends LocalTarget {
  /** Oldest first. */
  snapshots: SnapshotRow[];
}

/** Reads the dataset's snapshots and plans retention over them as a successful backup now would
 * (with the host's anomaly cap, so what it shows kept is what the next prune keeps). */
export async function snapshotReport(
  target: LocalTarget,
  now = Date.now(),
): Promise<{ report: SnapshotReport; plan: RetentionPlan }> {
  const listed = target.exists ? await listSnapshots(target.dataset) : [];
  const reasons = target.exists ? await keepReasons(target.dataset) : new Map<string, string>();
  const origins = target.exists ? await snapshotOrigins(target.dataset) : new Map<string, string>();
  // A replication base is never pruned (pool/prune.ts), whatever the policy says.
  const bases = target.exists ? await replicationBases(target.dataset) : new Map<string, string>();
  // Another system's snapshots are rotated only once the dataset is adopted (owned): before, they are foreign.
  const owned = target.exists && (await datasetOwner(target.dataset)) === target.host;
  const adopt = owned ? target.adopt : {};
  const plan = planRetention({
    snapshots: listed,
    policy: target.policy,
    now,
    backupSucceeded: true,
    adopt,
    anomalyCap: target.anomalyCap,
  });
  const byName = new Map(listed.map((snapshot) => [snapshot.name, snapshot]));
  const snapshots = plan.verdicts.map((verdict): SnapshotRow => {
    const info = byName.get(verdict.name)!;
    return {
      name: verdict.name,
      snapshot: `${target.dataset}@${verdict.name}`,
      takenAt: new Date(verdict.takenAt).toISOString(),
      createdAt: new Date(info.createdAt * 1000).toISOString(),
      used: info.used,
      kind: verdict.kind,
      adoptedAs: referenceClass(verdict.name) ?? null,
      holds: Number.isFinite(info.holds) ? info.holds : null,
      keepReason: reasons.get(verdict.name) ?? null,
      ...withReplicationBase(verdict, bases),
      origin: origins.get(verdict.name) ?? null,
    };
  });
  const { host, server, dataset, exists, policy, anomalyCap } = target;
  return { report: { host, server, dataset, exists, policy, adopt, anomalyCap, snapshots }, plan };
}

function withReplicationBase(
  verdict: { name: string; keep: boolean; reasons: string[] },
  bases: Map<string, string>,
): { keep: boolean; reasons: string[] } {
  const peers = [...bases].filter(([, base]) => base === verdict.name).map(([peer]) => peer);
  if (peers.length === 0) return { keep: verdict.keep, reasons: verdict.reasons };
  return { keep: true, reasons: [...verdict.reasons, `replication base (${peers.join(', ')})`] };
}
