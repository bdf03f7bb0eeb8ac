// A dataset's life under daily backups, simulated without zfs: each run takes a snapshot labelled by its
// outcome and prunes what planRetention says, at the run's own time, the way pruneAfterBackup does.
import { snapshotName, type SnapshotLabel } from '../../domain/names.js';
import { planRetention, type RetentionPolicy, type RetentionSnapshot } from '../../domain/retention.js';

/** good: complete snapshot; suspect/partial: an anomaly snapshot; failed: no snapshot and no prune. */
export type RunOutcome = 'good' | 'suspect' | 'partial' | 'failed';

export const dayMs = 86_400_000;

const labels: Record<Exclude<RunOutcome, 'failed'>, SnapshotLabel> = {
  good: 'complete',
  suspect: 'suspect',
  partial: 'partial',
};

export interface RunOptions {
  policy: RetentionPolicy;
  anomalyCap?: number;
  /** Time of the first run; run i is at first + i days. */
  first: number;
  /** Called after each run's prune (not after failed runs). */
  afterRun?: (run: PrunedRun) => void;
}

export interface PrunedRun {
  index: number;
  /** The run's time, also the prune's `now`. */
  at: number;
  /** The snapshots the prune saw (the run's new one included). */
  before: readonly RetentionSnapshot[];
  /** The plan's destroy list, oldest first. */
  destroyed: readonly string[];
  after: readonly RetentionSnapshot[];
}

/** The snapshots left after running `outcomes`, one a day. */
export function runDaily(outcomes: readonly RunOutcome[], options: RunOptions): RetentionSnapshot[] {
  let snapshots: RetentionSnapshot[] = [];
  outcomes.forEach((outcome, index) => {
    if (outcome === 'failed') return;
    const at = options.first + index * dayMs;
    snapshots.push({ name: snapshotName(new Date(at), labels[outcome]), createdAt: at / 1000, holds: 0 });
    const plan = planRetention({
      snapshots,
      policy: options.policy,
      now: at,
      backupSucceeded: true,
      anomalyCap: options.anomalyCap,
    });
    const destroyed = new Set(plan.destroy);
    const before = snapshots;
    snapshots = snapshots.filter((snapshot) => !destroyed.has(snapshot.name));
    options.afterRun?.({ index, at, before, destroyed: plan.destroy, after: snapshots });
  });
  return snapshots;
}

/** Names of the complete (unlabelled Tidemark) snapshots among `snapshots`, oldest first. */
export function goodNames(snapshots: readonly RetentionSnapshot[]): string[] {
  return snapshots
    .map((snapshot) => snapshot.name)
    .filter((name) => /Z$/.test(name))
    .sort();
}

/** `count` copies of `outcome`. */
export function repeat(outcome: RunOutcome, count: number): RunOutcome[] {
  return Array.from({ length: count }, () => outcome);
}
