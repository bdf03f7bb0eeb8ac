// One backup of one host onto one backup server: plan → dataset → transfer → snapshot.
// Deterministic workflow code: no Node modules, no I/O; every side effect is an activity on the
// server that owns the pool.
import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  isCancellation,
  patched,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { EnsuredDataset } from '../activities/dataset.js';
import type { SnapshotAndRetention } from '../activities/snapshot-and-prune.js';
import type { BackupInput, BackupPlan, BackupProgress, BackupSummary } from '../domain/backup.js';
import { formatDuration } from '../domain/duration.js';
import { baselineProperties } from '../domain/guards.js';
import type { ActivityFailureType } from '../domain/failures.js';
import { progressQueryName, snapshotName, type SnapshotLabel } from '../domain/names.js';
import { finishRun, prepareHost, runAfterHook, runFailedAfterHook } from './host-steps.js';
import { notifyRun, pingStart, unfinishedSummary } from './notify.js';
import { pruneAfterBackup, retentionRequest, withRetentionOutcome } from './retention.js';
import { recordBackupOutcome } from './search-attributes.js';
import { startReplicas } from './replicate-after-backup.js';
import { replicatedSummary } from './replica-run.js';
import type { ReplicaRun } from '../domain/replication.js';
import { runSummary } from '../domain/search-attributes.js';
import { explainStepFailure, onServer, onTransferSlot, stepPolicy } from './step-policy.js';
import { patches } from './patches.js';

/** Which step the backup is in; transfer figures are in the transfer activity's heartbeat details. */
export const progressQuery = defineQuery<BackupProgress>(progressQueryName);

export async function backupHost(input: BackupInput): Promise<BackupSummary> {
  const started = Date.now();
  const progress: BackupProgress = { phase: 'planning', startedAt: new Date(started).toISOString() };
  setHandler(progressQuery, () => progress);

  const pool = onServer(input.server, stepPolicy.pool);
  // Snapshot with retention: a first prune after adopting years of snapshots may take minutes.
  const snapshotting = onServer(input.server, stepPolicy.longPool);

  // Monitoring (workflows/notify.ts): healthchecks /start now, every target at the end of every run.
  const startPing = pingStart(input);
  // Every end of a run, good or bad, goes through here: monitoring hears it, then the search attributes.
  const report = async (summary: BackupSummary) => recordBackupOutcome(await notifyRun(summary, startPing));
  let plan: BackupPlan | undefined;
  try {
    // Ownership, hardening, pool health and reserve; the shrink guard's baseline (activities/dataset.ts).
    let ensured: EnsuredDataset;
    let replicaRun: ReplicaRun | undefined;
    if (patched(patches.oneStepPlan.id)) {
      // One round trip for both; histories recorded before this replay the two steps below.
      ({ plan, ensured, replicaRun } = await pool.planAndEnsureDataset(input));
    } else {
      plan = await pool.planBackup(input);
      progress.phase = 'dataset';
      ensured = await pool.ensureDataset(plan.dataset, plan.host, plan.reserve ? { reserve: plan.reserve } : {});
    }
    // A replication target whose copy is fresh pulls nothing (workflows/replica-run.ts).
    if (replicaRun?.mode === 'replicated' && patched(patches.replicaRun.id)) {
      progress.phase = 'done';
      return await report(replicatedSummary(plan, replicaRun, started));
    }
    // Host veto, hooks, mount-table selection and excludes (workflows/host-steps.ts).
    const host = await prepareHost(plan, progress, started);
    if (host.skipped) {
      progress.phase = 'done';
      return await report(await runAfterHook(plan, host.skipped));
    }

    progress.phase = 'transfer';
    const transfer = await onTransferSlot(
      plan.server,
      stepPolicy.transfer(plan, `rsync ${runSummary(plan.host, plan.server)}`),
    ).transferFiles(host.transferPlan, ensured.mountpoint, ensured.baseline);

    progress.phase = 'snapshot';
    const partial = transfer.outcome === 'partial';
    const guard = transfer.guard;
    const label = partial ? 'partial' : guard?.suspect ? 'suspect' : 'complete';
    const mounts =
      plan.hostSteps?.selection.mode === 'mounts'
        ? [...host.transferPlan.paths, ...(guard?.heldMounts ?? [])]
        : undefined;
    const recorded = guard
      ? baselineProperties({
          files: transfer.filesTotal,
          bytes: transfer.bytesTotal ?? 0,
          written: transfer.bytesTransferred,
          ...(mounts ? { mounts } : {}),
          ...(guard.suspect ? { suspect: guard.suspect } : {}),
          ...(guard.filter ? { filter: guard.filter } : {}),
        })
      : [];
    // Snapshot and retention in one step (a hook failure makes the run FAILED: then nothing is pruned);
    // histories recorded before this replay the three steps (takeSnapshot here, the others in pruneAfterBackup).
    const oneStep = patched(patches.snapshotWithRetention.id);
    const retention = oneStep && !host.failure ? retentionRequest(plan) : undefined;
    const dataset = plan.dataset;
    const taken: SnapshotAndRetention = await takeSnapshotOnce(label, (name) =>
      oneStep
        ? snapshotting.snapshotAndPrune(dataset, name, input.keep, recorded, retention)
        : pool.takeSnapshot(dataset, name, input.keep, recorded),
    );
    const snapshot = taken.snapshot;
    const durationMs = Date.now() - started;
    // Why this run is not a plain success, most important first; a WARNING's summary line starts with them.
    const concerns = [
      ...(replicaRun?.mode === 'failover' ? [`failover: ${replicaRun.reason}; pulled ${plan.host} directly`] : []),
      ...(guard?.heldMounts.length ? [`not mounted this time, copy kept: ${guard.heldMounts.join(', ')}`] : []),
      ...(guard?.suspect
        ? [`${guard.suspect}; labelled suspect (start-backup --allow-shrink if the data was removed on purpose)`]
        : []),
      ...(partial
        ? [
            `partial transfer (rsync exit 23), snapshot ${snapshot} labelled partial: ${transfer.warnings.slice(-3).join(' | ')}`,
          ]
        : []),
      ...(ensured.warnings ?? []),
    ];
    // A periodic --checksum run (transfer.checksumEvery) says so. Only the summary's text changes, no command:
    // runs recorded before it have no checksumRun in their plan and replay unchanged without a patch.
    const checksumRun = plan.transfer.checksumRun === true;
    const figures = `${transfer.filesTransferred} files, ${transfer.bytesTransferred} bytes in ${formatDuration(durationMs)}${checksumRun ? ' (checksum run: contents compared)' : ''}, snapshot ${snapshot}`;
    const outcome: BackupSummary = {
      host: plan.host,
      server: plan.server,
      // A failed hook makes the run FAILED (finishRun says why): then retention must not prune.
      status: host.failure ? 'FAILED' : concerns.length > 0 ? 'WARNING' : 'SUCCESS',
      dataset: plan.dataset,
      snapshot,
      filesTransferred: transfer.filesTransferred,
      bytesTransferred: transfer.bytesTransferred,
      bytesReceived: transfer.bytesReceived,
      durationMs,
      ...(checksumRun ? { checksumRun: true } : {}),
      message:
        concerns.length > 0
          ? partial && concerns.length === 1
            ? concerns[0]!
            : `${concerns.join('; ')}; ${figures}`
          : figures,
    };
    progress.phase = 'retention';
    const summary = oneStep ? withRetentionOutcome(outcome, taken.retention) : await pruneAfterBackup(plan, outcome);
    const finished = await finishRun(plan, host, summary);
    progress.phase = 'done';
    const reported = await report(finished);
    // Off-site copies by ZFS replication (workflows/replicate-after-backup.ts).
    await startReplicas(plan, label, reported);
    return reported;
  } catch (error) {
    // A dataset failure of the one-step plan carries the plan: the run failed in the dataset step.
    const carried = progress.phase === 'planning' ? planOfFailure(error) : undefined;
    plan ??= carried;
    const phase = carried ? 'dataset' : progress.phase;
    progress.phase = 'failed';
    if (isCancellation(error)) {
      await report(
        unfinishedSummary(
          input,
          plan,
          'CANCELLED',
          `backup of ${input.host} on ${input.server} cancelled during ${phase}`,
          started,
        ),
      );
      throw error;
    }
    const message = `backup of ${input.host} on ${input.server} failed during ${phase}: ${explainStepFailure(error, input.server, 'transfer')}`;
    if (plan) await runFailedAfterHook(plan, message);
    // Monitoring hears of failures too; the run still fails, so Temporal shows it Failed.
    const summary = await report(unfinishedSummary(input, plan, 'FAILED', message, started));
    throw ApplicationFailure.nonRetryable(message, 'BackupFailed', summary);
  }
}

/** Names the snapshot by workflow time; if a run of the same second already took that name, waits a second. */
async function takeSnapshotOnce<T>(label: SnapshotLabel, take: (name: string) => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await take(snapshotName(new Date(), label));
    } catch (error) {
      if (!(
        error instanceof ActivityFailure &&
        error.cause instanceof ApplicationFailure &&
        error.cause.type === ('SnapshotNameTaken' satisfies ActivityFailureType)
      ))
        throw error;
      await sleep('1s');
    }
  }
}

/** The plan a failed planAndEnsureDataset carries in its details (activities/plan-dataset.ts). */
function planOfFailure(error: unknown): BackupPlan | undefined {
  if (!(error instanceof ActivityFailure && error.cause instanceof ApplicationFailure)) return undefined;
  return (error.cause.details?.[0] as { plan?: BackupPlan } | undefined)?.plan;
}
