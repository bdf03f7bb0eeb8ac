// One workflow execution as visibility lists it, read as a run record (fleet/verdict.ts): shared by the backup
// runs of fleet/status.ts and the drills of fleet/drill-status.ts.
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { bytesAttribute, runStatuses, statusAttribute, type RunStatus } from '../domain/search-attributes.js';
import type { RunRecord } from './verdict.js';

/** A run that ended without recording how (terminated, timed out, or run by a worker older than the
 * attributes) is judged by Temporal's own status; one that completed so is never counted as a success. */
export function runRecord(execution: WorkflowExecutionInfo): RunRecord {
  const recorded = execution.typedSearchAttributes.get(statusAttribute);
  const bytes = execution.typedSearchAttributes.get(bytesAttribute);
  let status: RunStatus;
  if (execution.status.name === 'RUNNING' || execution.status.name === 'PAUSED') status = 'RUNNING';
  else if (recorded !== undefined && recorded !== 'RUNNING' && (runStatuses as readonly string[]).includes(recorded))
    status = recorded as RunStatus;
  else
    status =
      execution.status.name === 'CANCELLED'
        ? 'CANCELLED'
        : execution.status.name === 'COMPLETED'
          ? 'WARNING'
          : 'FAILED';
  return {
    status,
    workflowId: execution.workflowId,
    runId: execution.runId,
    startedAt: execution.startTime,
    ...(execution.closeTime ? { closedAt: execution.closeTime } : {}),
    ...(bytes !== undefined ? { bytes } : {}),
  };
}
