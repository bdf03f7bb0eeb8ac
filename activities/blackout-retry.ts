// A host step (probe, hooks, transfer) that fails while its next attempt would start inside the host's
// blackout window asks Temporal to wait until the window ends (ApplicationFailure.nextRetryDelay): the
// retry policy's backoff stays as it is outside the windows. The rule is domain/blackout-retry.ts.
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { BackupPlan } from '../domain/backup.js';
import { delayPastBlackout, plannedRetryDelayMs } from '../domain/blackout-retry.js';
import { fatalTransferErrors } from '../domain/failures.js';

/** Runs a host step; a failure that will be retried inside a blackout window is retried after it instead. */
export async function outsideBlackout<T>(plan: BackupPlan, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw deferredPastBlackout(plan, error, Context.current().info.attempt, new Date());
  }
}

/** The error to throw: unchanged unless Temporal would retry it and the retry would fall in a window. */
export function deferredPastBlackout(plan: BackupPlan, error: unknown, attempt: number, now: Date): unknown {
  if (attempt >= plan.transfer.attempts || error instanceof CancelledFailure) return error;
  if (
    error instanceof ApplicationFailure &&
    (error.nonRetryable || (fatalTransferErrors as readonly string[]).includes(error.type ?? ''))
  )
    return error;
  const deferred = delayPastBlackout(
    now,
    plannedRetryDelayMs(attempt, plan.transfer.retryIntervalMs),
    plan.transfer.blackout,
  );
  if (!deferred) return error;
  const resumeAt = new Date(now.getTime() + deferred.delayMs).toISOString();
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({
    message: `${message}; attempt ${attempt + 1} waits for the blackout window ${deferred.window} to end (${resumeAt})`,
    ...(error instanceof ApplicationFailure && error.type ? { type: error.type } : {}),
    ...(error instanceof ApplicationFailure && error.details ? { details: [...error.details] } : {}),
    nextRetryDelay: deferred.delayMs,
  });
}
