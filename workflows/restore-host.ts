// One restore out of one host's snapshots: plan → open (hold + read-only view) → copy → close.
// Deterministic workflow code: every side effect is an activity on the server that owns the pool. The
// close step runs whatever happens (failure or cancel), outside the cancellation scope.
import { ApplicationFailure, CancellationScope, defineQuery, isCancellation, setHandler } from '@temporalio/workflow';
import { formatDuration } from '../domain/duration.js';
import { innermostCause } from '../domain/failures.js';
import { restoreProgressQueryName } from '../domain/names.js';
import { explainStepFailure, onServer, onTransferSlot, stepPolicy } from './step-policy.js';
import {
  restoreSummary,
  type RestoreInput,
  type RestorePlan,
  type RestoreProgress,
  type RestoreSummary,
} from '../domain/restore.js';

/** Which step the restore is in; copy figures are in the copy activity's heartbeat details. */
export const restoreProgressQuery = defineQuery<RestoreProgress>(restoreProgressQueryName);

export async function restoreHost(input: RestoreInput): Promise<RestoreSummary> {
  const started = Date.now();
  const progress: RestoreProgress = { phase: 'planning', startedAt: new Date(started).toISOString() };
  setHandler(restoreProgressQuery, () => progress);
  const pool = onServer(input.server, stepPolicy.restorePool);

  let plan: RestorePlan | undefined;
  try {
    plan = await pool.planRestore(input);
    progress.snapshot = plan.snapshot;
    progress.phase = 'opening';
    const view = await pool.openRestoreSnapshot(plan);
    progress.phase = 'copying';
    const copy = await onTransferSlot(plan.server, stepPolicy.restoreCopy(plan.heartbeatTimeoutMs)).restoreFiles(
      plan,
      view,
    );
    progress.phase = 'closing';
    return restoreSummary(plan, copy, formatDuration(Date.now() - started));
  } catch (error) {
    const phase = progress.phase;
    progress.phase = 'failed';
    if (isCancellation(error)) throw error;
    const cause = innermostCause(error);
    const type = cause instanceof ApplicationFailure && cause.type === 'USAGE' ? 'USAGE' : 'RestoreFailed';
    throw ApplicationFailure.nonRetryable(
      `restore of ${input.host} from ${input.server} failed during ${phase}: ${explainStepFailure(cause, input.server, 'copy')}`,
      type,
    );
  } finally {
    // The hold and the clone go whatever happened, also when the run was cancelled.
    const opened = plan;
    if (opened) {
      await CancellationScope.nonCancellable(() => pool.closeRestoreSnapshot(opened));
      if (progress.phase !== 'failed') progress.phase = 'done';
    }
  }
}
