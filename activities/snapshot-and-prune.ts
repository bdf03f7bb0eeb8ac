// Snapshot and retention in one step on the backup server: freeze the copy (takeSnapshot), then list the
// dataset's snapshots, plan retention with the same pure planner the workflow used before (the plan, with
// the rule keeping each snapshot, is in this step's result: history and UI still show it) and destroy what
// the plan names, each after pool/prune.ts's fresh safety check. One round trip instead of three.
// A retention failure keeps every snapshot and comes back as `retention.error` (the run turns WARNING); only
// the snapshot's own failure fails the step.
import { Context } from '@temporalio/activity';
import { planRetention, type AdoptOptions, type RetentionPlan, type RetentionPolicy } from '../domain/retention.js';
import { destroyPlanned, type PruneResult } from '../pool/prune.js';
import { listSnapshots } from '../pool/zfs.js';
import { takeSnapshot, type TakenSnapshot } from './snapshot.js';

/** What retention needs besides the listing; absent when this run must not prune (no policy, hook failure). */
export interface RetentionRequest {
  policy: RetentionPolicy;
  adopt: AdoptOptions;
  /** The guards' maxAnomalySnapshots (undefined: every newer anomaly stays). */
  anomalyCap?: number;
}

export type RetentionOutcome = { plan: RetentionPlan; result: PruneResult } | { error: string };

export interface SnapshotAndRetention extends TakenSnapshot {
  /** Absent when no retention was asked for. */
  retention?: RetentionOutcome;
}

export async function snapshotAndPrune(
  dataset: string,
  name: string,
  keepReason: string | null | undefined,
  recorded: string[],
  retention?: RetentionRequest,
): Promise<SnapshotAndRetention> {
  const context = Context.current();
  // Alive while zfs works (a busy pool can take a while to snapshot or destroy).
  const beat = setInterval(() => context.heartbeat(), 10_000);
  try {
    const taken = await takeSnapshot(dataset, name, keepReason, recorded);
    if (!retention) return taken;
    return { ...taken, retention: await pruneAfterSnapshot(dataset, retention, context) };
  } finally {
    clearInterval(beat);
  }
}

/** List, plan and destroy; a failure is returned, never thrown (the snapshot is made either way). */
export async function pruneAfterSnapshot(
  dataset: string,
  { policy, adopt, anomalyCap }: RetentionRequest,
  context: Context,
): Promise<RetentionOutcome> {
  try {
    const listed = await listSnapshots(dataset);
    const now = Date.now();
    const plan = planRetention({ snapshots: listed, policy, now, backupSucceeded: true, adopt, anomalyCap });
    const result = await destroyPlanned(
      { dataset, plan, safety: { timeZone: policy.timeZone, adopt, backupSucceeded: true, anomalyCap } },
      (done, total) => context.heartbeat({ done, total }),
      listed,
    );
    return { plan, result };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
