// `--wait`: follow one backup run, printing its phase and transfer progress until it ends.
import type { WorkflowHandle } from '@temporalio/client';
import type { BackupProgress, BackupSummary } from '../domain/backup.js';
import { formatDuration } from '../domain/duration.js';
import { progressQueryName } from '../domain/names.js';
import { followRun } from './follow-run.js';
import { formatTransfer, movingTransfer } from './transfer-progress.js';

/** Waits for the run's result, showing progress on stderr (one rewritten line on a terminal). */
export async function watchBackup(handle: WorkflowHandle, runId: string): Promise<BackupSummary> {
  const run = handle.client.getHandle(handle.workflowId, runId);
  return followRun<BackupProgress, BackupSummary>(
    run,
    () => run.query<BackupProgress>(progressQueryName),
    (progress, description) => {
      const parts = [`${handle.workflowId}: ${progress.phase}`];
      const veto = progress.veto;
      if (veto) parts.push(`host veto (${veto.files.join(', ')}), check ${veto.checks}, next at ${veto.nextCheckAt}`);
      const keyParts = [...parts];
      const transfer = movingTransfer(description);
      if (transfer) parts.push(formatTransfer(transfer));
      for (const activity of description.raw.pendingActivities ?? []) {
        if ((activity.attempt ?? 1) > 1) {
          const attempt = `attempt ${activity.attempt}${activity.lastFailure?.message ? ` (last: ${activity.lastFailure.message.split('\n')[0]!.slice(0, 160)})` : ''}`;
          parts.push(attempt);
          keyParts.push(attempt);
        }
      }
      parts.push(formatDuration(Date.now() - Date.parse(progress.startedAt)));
      return { line: parts.join(' · '), key: keyParts.join(' · '), moving: transfer };
    },
  );
}
