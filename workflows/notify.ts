// The notify step of a backup (monitoring): every run ends with it, good, failed or cancelled.
// Deterministic workflow code: the work is done by activities on the backup server's queue
// (activities/notify.ts), which read the targets and their secrets from the server's inventory.
//
//   pingStart      healthchecks /start, alongside the first steps; never fails the run
//   recordOutcome  state file (previous status for recovery mail, metrics), then the list of targets
//   notifyTarget   one activity per target, in parallel, each with its own retries
//
// A target that still fails after its attempts is listed in the summary's `notifications` with its
// error (and its failed activity is in the history); the backup's own status never changes.
// Cancelled runs notify too (status CANCELLED, reported as WARNING): the step runs in a
// non-cancellable scope.
import { ApplicationFailure, CancellationScope, TimeoutFailure, patched } from '@temporalio/workflow';
import type { BackupInput, BackupPlan, BackupStatus, BackupSummary } from '../domain/backup.js';
import { innermostCause } from '../domain/failures.js';
import { onServer, stepPolicy } from './step-policy.js';
import { escalatedSummaries, type NotificationResult, type OutcomeRecord } from '../domain/notify.js';
import { patches } from './patches.js';

/** The notify activities on the server's queue with `attempts` tries (workflows/drill-notify.ts uses them too). */
export function notifyActivities(server: string, attempts: number) {
  return onServer(server, stepPolicy.notify(attempts));
}

/** Starts the healthchecks /start pings; the promise never rejects. Await it before `notifyRun`. */
export function pingStart(input: BackupInput): Promise<void> {
  if (!patched(patches.notify.id)) return Promise.resolve();
  return notifyActivities(input.server, 2)
    .notifyStart(input)
    .then(
      () => undefined,
      () => undefined,
    );
}

/** The summary of a run that copied nothing: FAILED (with the error), CANCELLED, or skipped by a host step. */
export function unfinishedSummary(
  input: Pick<BackupInput, 'host' | 'server'>,
  plan: BackupPlan | undefined,
  status: BackupStatus,
  message: string,
  startedMs: number,
): BackupSummary {
  return {
    host: input.host,
    server: input.server,
    status,
    dataset: plan?.dataset ?? '',
    snapshot: null,
    filesTransferred: 0,
    bytesTransferred: 0,
    bytesReceived: 0,
    durationMs: Date.now() - startedMs,
    message,
  };
}

/** Records the run and tells every target; returns the summary with `notifications`. Never throws. */
export async function notifyRun(summary: BackupSummary, startPing: Promise<void>): Promise<BackupSummary> {
  if (!patched(patches.notify.id)) return summary;
  return CancellationScope.nonCancellable(async () => {
    await startPing;
    let outcome: OutcomeRecord;
    try {
      outcome = await notifyActivities(summary.server, 5).recordOutcome(summary);
    } catch (error) {
      return {
        ...summary,
        notifications: [{ target: 'state', type: 'state', ok: false, error: innermostMessage(error) }],
      };
    }
    const stateProblem: NotificationResult[] = [outcome.stateError, outcome.stateWarning].flatMap((error) =>
      error ? [{ target: 'state', type: 'state', ok: false, error }] : [],
    );
    // A partial streak escalates what the targets are told only; the activity calls stay the same.
    const { toTargets, toCaller } = escalatedSummaries(summary, outcome.escalation);
    if (outcome.targets.length === 0 && stateProblem.length === 0) return toCaller;
    const notifications = await Promise.all(
      outcome.targets.map(async (target): Promise<NotificationResult> => {
        try {
          return await notifyActivities(summary.server, target.attempts).notifyTarget(
            target.id,
            toTargets,
            outcome.previousStatus,
          );
        } catch (error) {
          return { target: target.id, type: target.type, ok: false, error: innermostMessage(error) };
        }
      }),
    );
    return { ...toCaller, notifications: [...notifications, ...stateProblem] };
  });
}

/** The failure's own message, without the SDK's "Activity task failed" wrapper. */
export function innermostMessage(error: unknown): string {
  const cause = innermostCause(error);
  if (cause instanceof TimeoutFailure) return `timed out (${cause.message || 'no worker picked the step up'})`;
  if (cause instanceof ApplicationFailure || cause instanceof Error) return cause.message;
  return String(cause);
}
