// Retention after a backup. Runs since the 'snapshot-with-retention' patch list, plan and prune inside the
// snapshot step (activities/snapshot-and-prune.ts, its result holding the plan and the rule keeping each
// snapshot); this file reads that outcome into the summary. Histories recorded before replay the three-step
// path below: list the dataset's snapshots → plan which go (here, in workflow code) → destroy exactly those on
// the server, each re-checked against fresh zfs data. Deterministic: no Node modules.
import { isCancellation, patched } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RetentionOutcome, RetentionRequest } from '../activities/snapshot-and-prune.js';
import type { BackupPlan, BackupSummary } from '../domain/backup.js';
import { innermostCause } from '../domain/failures.js';
import { onServer, stepPolicy } from './step-policy.js';
import { planRetention, type RetentionPlan } from '../domain/retention.js';
import { patches } from './patches.js';

type PruneResult = Awaited<ReturnType<Activities['pruneSnapshots']>>;

/** Prunes after a backup that succeeded (status SUCCESS or WARNING) and returns its summary with the
 * figures added (`pruned`, a note in `message`). Nothing is pruned for a FAILED run, nor when the plan
 * carries no policy. A listing or pruning failure leaves the snapshots and turns SUCCESS into WARNING. */
export async function pruneAfterBackup(plan: BackupPlan, summary: BackupSummary): Promise<BackupSummary> {
  // Histories of runs that completed before retention existed replay without these steps.
  const request = retentionRequest(plan);
  if (!request || summary.status === 'FAILED' || !patched(patches.retention.id)) return summary;
  const { policy, adopt, anomalyCap } = request;
  const listing = onServer(plan.server, stepPolicy.pool);
  // A first prune after adopting years of snapshots may take minutes: heartbeats show it is alive.
  const pruning = onServer(plan.server, stepPolicy.longPool);

  try {
    const listed = await listing.listSnapshots(plan.dataset);
    // NaN (unreadable holds) crosses the history as null: keep it unknown, which planRetention treats as held.
    const snapshots = listed.map(({ name, createdAt, holds }) => ({
      name,
      createdAt,
      holds: typeof holds === 'number' ? holds : Number.NaN,
    }));
    const retention = planRetention({ snapshots, policy, now: Date.now(), backupSucceeded: true, adopt, anomalyCap });
    const result = await pruning.pruneSnapshots({
      dataset: plan.dataset,
      plan: retention,
      safety: { timeZone: policy.timeZone, adopt, backupSucceeded: true, anomalyCap },
    });
    return withPruneFigures(summary, retention, result);
  } catch (error) {
    if (isCancellation(error)) throw error;
    const cause = innermostCause(error);
    return notPruned(summary, cause instanceof Error ? cause.message : String(cause));
  }
}

/** What snapshotAndPrune needs to prune after this run; undefined without a policy. */
export function retentionRequest(plan: BackupPlan): RetentionRequest | undefined {
  if (!plan.retention) return undefined;
  const { policy, adopt } = plan.retention;
  // Plans made before the guards existed carry none: no cap, every newer anomaly stays as it did then.
  const anomalyCap = plan.guards?.maxAnomalySnapshots;
  return { policy, adopt, ...(anomalyCap === undefined ? {} : { anomalyCap }) };
}

/** The summary with what snapshotAndPrune's retention did; unchanged when it was not asked to prune. */
export function withRetentionOutcome(summary: BackupSummary, outcome: RetentionOutcome | undefined): BackupSummary {
  if (!outcome) return summary;
  return 'error' in outcome
    ? notPruned(summary, outcome.error)
    : withPruneFigures(summary, outcome.plan, outcome.result);
}

function withPruneFigures(summary: BackupSummary, plan: RetentionPlan, result: PruneResult): BackupSummary {
  const gone = new Set([...result.destroyed, ...result.alreadyGone]);
  const pruned = plan.destroy.filter((name) => gone.has(name));
  const kept = plan.verdicts.length - plan.destroy.length;
  let note =
    pruned.length > 0
      ? `pruned ${pruned.length} snapshot${pruned.length === 1 ? '' : 's'}, ${kept} kept`
      : `nothing to prune, ${kept} kept`;
  if (result.refused.length > 0) {
    const refused = result.refused.slice(0, 3).map(({ name, reasons }) => `${name}: ${reasons.join(', ')}`);
    note += `; ${result.refused.length} left by the safety check (${refused.join('; ')})`;
  }
  return { ...summary, pruned, message: `${summary.message}; ${note}` };
}

/** A listing or pruning failure leaves every snapshot and turns the run into WARNING. */
function notPruned(summary: BackupSummary, why: string): BackupSummary {
  return {
    ...summary,
    status: 'WARNING',
    pruned: [],
    message: `${summary.message}; snapshots were not pruned: ${why}`,
  };
}
