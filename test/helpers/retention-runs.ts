// A dataset's life under daily backups, simulated without zfs: each run takes a snapshot labelled by its
// outcome and prunes what planRetention says, at the run's own time, the way pruneAfterBackup does.
import { snapshotName, type SnapshotLabel } from '../../domain/names.js';
import { planRetention, type RetentionPolicy, type RetentionSnapshot } from '../../domain/retention.js';

/** good: complete snapshot; suspect/partial: an anomaly snapshot; failed: no snapshot and no prune. */
export type RunOutcome = 'good' | 'suspect' | 'partial' | 'failed';

export const dayMs = 86_400_000;

const labels: Record<Exclude<RunOutcome, 'failed'>, SnapshotLabel> = { good: 'complete', suspect: 'suspect', partial: 'partial' };

export interface RunOptions {
  policy: RetentionPolicy;
  anomalyCap?: number;
  /** Time of the first run; run i is at first + i days. */
  first: number;
  /** Called after each run's prune with the run's index and the surviving snapshots. */
  afterRun?: (index: number, snapshots: readonly RetentionSnapshot[], destroyed: readonly string[]) => void;
}

/** The snapshots left after running `outcomes`, one a day. */
export function runDaily(outcomes: readonly RunOutcome[], options: RunOptions): RetentionSnapshot[] {
  let snapshots: RetentionSnapshot[] = [];
  outcomes.forEach((outcome, index) => {
    if (outcome === 'failed') return;
    const at = options.first + index * dayMs;
    snapshots.push({ name: snapshotName(new Date(at), labels[outcome]), createdAt: at / 1000, holds: 0 });
    const plan = planRetention({ snapshots, policy: options.policy, now: at, backupSucceeded: true, anomalyCap: options.anomalyCap });
    const destroyed = new Set(plan.destroy);
    snapshots = snapshots.filter((snapshot) => !destroyed.has(snapshot.name));
    options.afterRun?.(index, snapshots, plan.destroy);
  });
  return snapshots;
}

/** Names of the complete (unlabelled Tidemark) snapshots among `snapshots`, oldest first. */
export function goodNames(snapshots: readonly RetentionSnapshot[]): string[] {
  return snapshots.map((snapshot) => snapshot.name).filter((name) => /Z$/.test(name)).sort();
}

/** `count` copies of `outcome`. */
export function repeat(outcome: RunOutcome, count: number): RunOutcome[] {
  return Array.from({ length: count }, () => outcome);
}
