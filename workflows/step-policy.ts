// Every activity group's timeouts and retry policy, in one place: each workflow asks for its activities here
// instead of spelling options inline, so a tuning is one edit and the groups cannot drift apart.
// Workflow code: deterministic, no Node modules. Timeouts and retries are not part of the replay check, but a
// change here changes how every later run waits and retries: say why beside the value.
import { TimeoutFailure, proxyActivities, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { BackupPlan } from '../domain/backup.js';
import { hostRetryBackoffCoefficient, hostRetryMaximumIntervalMs } from '../domain/blackout-retry.js';
import { fatalTransferErrors, innermostCause } from '../domain/failures.js';
import { serverTaskQueue, transferTaskQueue } from '../domain/names.js';

/** How long a step waits for its backup server's worker before the run reports the server as down. */
export const serverPickupTimeout = '5m';

/** zfs on the backup server: a few quick retries ride out a busy pool or a restarting worker. */
const poolRetry: RetryPolicy = {
  initialInterval: '5s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 5,
};

/** The host's retry policy for steps that talk to it over ssh (transfer, probe, hooks): backoff on
 * network trouble, no retry for configuration errors such as a rejected host key. */
function hostRetryPolicy(plan: BackupPlan): RetryPolicy {
  return {
    initialInterval: plan.transfer.retryIntervalMs,
    // Shared with the blackout rule, which must know when the next attempt would start.
    backoffCoefficient: hostRetryBackoffCoefficient,
    maximumInterval: hostRetryMaximumIntervalMs,
    maximumAttempts: plan.transfer.attempts,
    nonRetryableErrorTypes: [...fatalTransferErrors],
  };
}

/** The options of each step group. `taskQueue` is added by `activitiesOn`. */
export const stepPolicy = {
  /** Quick pool work: plan, dataset, snapshot listing. */
  pool: { scheduleToStartTimeout: serverPickupTimeout, startToCloseTimeout: '5m', retry: poolRetry },
  /** Pool work that can take minutes: a first prune after adopting years of snapshots, a replication
   * target's receive preparation. Heartbeats show it is alive. */
  longPool: {
    scheduleToStartTimeout: serverPickupTimeout,
    startToCloseTimeout: '1h',
    heartbeatTimeout: '2m',
    retry: poolRetry,
  },
  /** Restore planning, opening and closing a snapshot view (a clone of a large snapshot takes a while). */
  restorePool: { scheduleToStartTimeout: serverPickupTimeout, startToCloseTimeout: '10m', retry: poolRetry },
  /** Steps over ssh on the host (probe, hooks): retried like the transfer, never for a script's failure. */
  host: (plan: BackupPlan, startToCloseMs: number): ActivityOptions => ({
    scheduleToStartTimeout: serverPickupTimeout,
    startToCloseTimeout: startToCloseMs,
    heartbeatTimeout: plan.transfer.heartbeatTimeoutMs,
    retry: hostRetryPolicy(plan),
  }),
  /** The backup server's own hook: the script's failure is a result; retries only cover a worker dying. */
  serverHook: (timeoutMs: number): ActivityOptions => ({
    scheduleToStartTimeout: serverPickupTimeout,
    startToCloseTimeout: timeoutMs + 60_000,
    heartbeatTimeout: '60s',
    retry: { initialInterval: '5s', maximumAttempts: 3 },
  }),
  /** Monitoring deliveries: short, a few attempts (the start ping fewer than the outcome). */
  notify: (attempts: number): ActivityOptions => ({
    scheduleToStartTimeout: serverPickupTimeout,
    startToCloseTimeout: '1m',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: attempts },
  }),
  /** The rsync transfer, on the transfer queue (slots = the server's concurrency), with the host's retries.
   * No pickup timeout: a run may wait for a slot as long as the fleet keeps the server busy. */
  transfer: (plan: BackupPlan, summary: string): ActivityOptions => ({
    // What the UI shows on the long step; metadata only, so recorded histories replay unchanged.
    summary,
    startToCloseTimeout: '7d',
    heartbeatTimeout: plan.transfer.heartbeatTimeoutMs,
    retry: hostRetryPolicy(plan),
  }),
  /** A restore's copy takes a transfer slot like a backup and waits for rsync to be killed on cancel, so the
   * close step never destroys a clone rsync still reads. */
  restoreCopy: (heartbeatTimeoutMs: number): ActivityOptions => ({
    startToCloseTimeout: '7d',
    heartbeatTimeout: heartbeatTimeoutMs,
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3 },
  }),
  /** A replication send: one attempt per round, since only a new listing of the target tells where the next
   * attempt starts. */
  replicationSend: (heartbeatTimeoutMs: number, summary: string): ActivityOptions => ({
    summary,
    startToCloseTimeout: '7d',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { maximumAttempts: 1 },
  }),
  /** The inventory sync on the control queue: every server's worker polls it, so it waits long for one. */
  control: {
    scheduleToStartTimeout: '10m',
    startToCloseTimeout: '10m',
    retry: {
      initialInterval: '10s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: 3,
      nonRetryableErrorTypes: ['CONFIG_INVALID', 'CONFIG_NOT_FOUND'],
    },
  },
} satisfies Record<string, ActivityOptions | ((...args: never[]) => ActivityOptions)>;

/** The activities of one step group on the backup server's pool queue. */
export function onServer(server: string, options: ActivityOptions) {
  return proxyActivities<Activities>({ taskQueue: serverTaskQueue(server), ...options });
}

/** The activities of one step group on the server's transfer queue (its slots are the server's concurrency). */
export function onTransferSlot(server: string, options: ActivityOptions) {
  return proxyActivities<Activities>({ taskQueue: transferTaskQueue(server), ...options });
}

/** The innermost useful message of a step's failure, with advice for timeouts. `step` names the long step
 * ("transfer", "copy") whose missing heartbeats mean a dead or hung worker. */
export function explainStepFailure(error: unknown, server: string, step: string): string {
  const cause = innermostCause(error);
  if (cause instanceof TimeoutFailure) {
    if (cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
      return `backup server "${server}" did not pick the step up within ${serverPickupTimeout}; is "tidemark worker --server ${server}" running?`;
    }
    if (cause.timeoutType === TimeoutType.HEARTBEAT)
      return `the ${step} stopped reporting progress (worker died or hung)`;
    return `timed out (${TimeoutType[cause.timeoutType ?? TimeoutType.START_TO_CLOSE]})`;
  }
  return cause instanceof Error ? cause.message : String(cause);
}
