// One log line when a run starts (its plan step) and one when it ends (its notify step, which every
// run reaches): what an operator greps the worker's log for, without opening the Temporal UI.
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { BackupInput, BackupSummary } from '../domain/backup.js';

/** The worker's logger (worker/log.ts), handed in by the worker that registers the activities. */
export type RunLog = Pick<Logger, 'info'>;

/** The calling run's ids; absent outside an activity (a direct call in a test or tool). */
function runFields(): { workflowId?: string; runId?: string; attempt?: number } {
  try {
    const { workflowExecution, attempt } = Context.current().info;
    return {
      ...(workflowExecution ? { workflowId: workflowExecution.workflowId, runId: workflowExecution.runId } : {}),
      attempt,
    };
  } catch {
    return {};
  }
}

export function logRunStart(log: RunLog, input: BackupInput): void {
  log.info(
    { event: 'run-start', host: input.host, server: input.server, status: 'STARTED', ...runFields() },
    `backup of ${input.host} on ${input.server} started`,
  );
}

export function logRunEnd(log: RunLog, summary: BackupSummary): void {
  const { host, server, status } = summary;
  log.info(
    {
      event: 'run-end',
      host,
      server,
      status,
      durationMs: summary.durationMs,
      bytesTransferred: summary.bytesTransferred,
      bytesReceived: summary.bytesReceived,
      filesTransferred: summary.filesTransferred,
      dataset: summary.dataset,
      snapshot: summary.snapshot,
      ...runFields(),
    },
    `backup of ${host} on ${server} ended ${status}: ${summary.message}`,
  );
}
