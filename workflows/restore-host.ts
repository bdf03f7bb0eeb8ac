// One restore out of one host's snapshots: plan → open (hold + read-only view) → copy → close.
// Deterministic workflow code: every side effect is an activity on the server that owns the pool. The
// close step runs whatever happens (failure or cancel), outside the cancellation scope.
import {
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import { formatDuration } from '../domain/duration.js';
import { innermostCause } from '../domain/failures.js';
import { serverTaskQueue, transferTaskQueue } from '../domain/names.js';
import {
  restoreSummary,
  type RestoreInput,
  type RestorePlan,
  type RestoreProgress,
  type RestoreSummary,
} from '../domain/restore.js';

/** Which step the restore is in; copy figures are in the copy activity's heartbeat details. */
export const restoreProgressQuery = defineQuery<RestoreProgress>('restoreProgress');

const serverPickupTimeout = '5m';

export async function restoreHost(input: RestoreInput): Promise<RestoreSummary> {
  const started = Date.now();
  const progress: RestoreProgress = { phase: 'planning', startedAt: new Date(started).toISOString() };
  setHandler(restoreProgressQuery, () => progress);
  const onServer = proxyActivities<Activities>({
    taskQueue: serverTaskQueue(input.server),
    scheduleToStartTimeout: serverPickupTimeout,
    startToCloseTimeout: '10m',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5 },
  });

  let plan: RestorePlan | undefined;
  try {
    plan = await onServer.planRestore(input);
    progress.snapshot = plan.snapshot;
    progress.phase = 'opening';
    const view = await onServer.openRestoreSnapshot(plan);
    progress.phase = 'copying';
    const copy = await copyActivities(plan).restoreFiles(plan, view);
    progress.phase = 'closing';
    return restoreSummary(plan, copy, formatDuration(Date.now() - started));
  } catch (error) {
    const phase = progress.phase;
    progress.phase = 'failed';
    if (isCancellation(error)) throw error;
    const cause = innermostCause(error);
    const type = cause instanceof ApplicationFailure && cause.type === 'USAGE' ? 'USAGE' : 'RestoreFailed';
    throw ApplicationFailure.nonRetryable(
      `restore of ${input.host} from ${input.server} failed during ${phase}: ${explain(cause, input.server)}`,
      type,
    );
  } finally {
    // The hold and the clone go whatever happened, also when the run was cancelled.
    const opened = plan;
    if (opened) {
      await CancellationScope.nonCancellable(() => onServer.closeRestoreSnapshot(opened));
      if (progress.phase !== 'failed') progress.phase = 'done';
    }
  }
}

/** The copy runs on the transfer queue (it takes a slot like a backup) and waits for rsync to be killed
 * on cancel, so the close step never destroys a clone rsync still reads. */
function copyActivities(plan: RestorePlan) {
  return proxyActivities<Activities>({
    taskQueue: transferTaskQueue(plan.server),
    startToCloseTimeout: '7d',
    heartbeatTimeout: plan.heartbeatTimeoutMs,
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3 },
  });
}

function explain(cause: unknown, server: string): string {
  if (cause instanceof TimeoutFailure) {
    if (cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
      return `backup server "${server}" did not pick the step up within ${serverPickupTimeout}; is "tidemark worker --server ${server}" running?`;
    }
    if (cause.timeoutType === TimeoutType.HEARTBEAT) return 'the copy stopped reporting progress (worker died or hung)';
    return `timed out (${TimeoutType[cause.timeoutType ?? TimeoutType.START_TO_CLOSE]})`;
  }
  return cause instanceof Error ? cause.message : String(cause);
}
