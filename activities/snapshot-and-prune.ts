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
    return await snapshotThenPrune(dataset, name, keepReason, recorded, retention);
  } finally {
    clearInterval(beat);
  }
}

async function snapshotThenPrune(
  dataset: string,
  name: string,
  keepReason: string | null | undefined,
  recorded: string[],
  retention: RetentionRequest | undefined,
): Promise<SnapshotAndRetention> {
  const context = Context.current();
  const taken = await takeSnapshot(dataset, name, keepReason, recorded);
  if (!retention) return taken;
  try {
    const listed = await listSnapshots(dataset);
    const { policy, adopt, anomalyCap } = retention;
    const plan = planRetention({
      snapshots: listed,
      policy,
      now: Date.now(),
      backupSucceeded: true,
      adopt,
      anomalyCap,
    });
    const result = await destroyPlanned(
      { dataset, plan, safety: { timeZone: policy.timeZone, adopt, backupSucceeded: true, anomalyCap } },
      (done, total) => context.heartbeat({ done, total }),
      listed,
    );
    return { ...taken, retention: { plan, result } };
  } catch (error) {
    return { ...taken, retention: { error: (error as Error).message } };
  }
}
