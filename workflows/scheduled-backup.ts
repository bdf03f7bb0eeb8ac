// What a Tidemark schedule starts: a small workflow that runs the (host, server) backup as a child under
// the fixed id backupWorkflowId(host, server). Schedules append the scheduled time to their own workflow
// ids, so only that fixed child id makes Temporal refuse a second concurrent backup, ad-hoc runs included:
// when one is already running this run records "skipped: already running" and ends.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, ChildWorkflowFailure, isCancellation, log, startChild } from '@temporalio/workflow';
import type { BackupInput } from '../domain/backup.js';
import { innermostCause } from '../domain/failures.js';
import { backupWorkflowId } from '../domain/names.js';
import type { ScheduledBackupInput, ScheduledBackupResult } from '../domain/schedule-spec.js';
import { runSummary, startAttributes, type RunStatus } from '../domain/search-attributes.js';
import { backupHost } from './backup-host.js';
import { recordScheduledOutcome, recordScheduledStart } from './search-attributes.js';

export async function scheduledBackup(input: ScheduledBackupInput): Promise<ScheduledBackupResult> {
  const workflowId = backupWorkflowId(input.host, input.server);
  // Names only: the backup server's worker plans the run from its own inventory (schedules made by older
  // versions also carried NetBox settings here; they are not passed on).
  const backupInput: BackupInput = { host: input.host, server: input.server };
  recordScheduledStart(input.host, input.server);
  let child;
  try {
    child = await startChild(backupHost, {
      workflowId,
      args: [backupInput],
      typedSearchAttributes: startAttributes(input.host, input.server),
      staticSummary: runSummary(input.host, input.server),
      // The backup outlives this run if someone terminates it; the id alone guards against twins.
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const message = `skipped: already running (a backup of ${input.host} on ${input.server} holds ${workflowId})`;
    log.info(message);
    recordScheduledOutcome('SKIPPED');
    return { outcome: 'skipped', reason: 'already running', workflowId, message };
  }
  try {
    const summary = await child.result();
    recordScheduledOutcome(summary.status);
    return {
      outcome: 'ran',
      workflowId,
      runId: child.firstExecutionRunId,
      status: summary.status,
      message: summary.message,
    };
  } catch (error) {
    const cause = innermostCause(error, ChildWorkflowFailure);
    recordScheduledOutcome(childFailureStatus(error));
    throw ApplicationFailure.nonRetryable(cause instanceof Error ? cause.message : String(cause), 'BackupFailed');
  }
}

/** The child threw: it was cancelled, or it failed, was terminated or timed out. */
function childFailureStatus(error: unknown): RunStatus {
  return isCancellation(error) ? 'CANCELLED' : 'FAILED';
}
