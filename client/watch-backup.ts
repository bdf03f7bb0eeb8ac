// `--wait`: follow one backup run, printing its phase and transfer progress until it ends.
import { defaultPayloadConverter, type WorkflowHandle } from '@temporalio/client';
import type { BackupProgress, BackupSummary, TransferProgress } from '../domain/backup.js';
import { formatDuration } from '../domain/duration.js';
import { progressQuery } from '../workflows/backup-host.js';

const pollEveryMs = 1_000;

/** Waits for the run's result, showing progress on stderr (one rewritten line on a terminal). */
export async function watchBackup(handle: WorkflowHandle, runId: string): Promise<BackupSummary> {
  const result = handle.client.getHandle(handle.workflowId, runId).result() as Promise<BackupSummary>;
  let done = false;
  result.then(
    () => (done = true),
    () => (done = true),
  );
  let lastLine = '';
  while (!done) {
    const line = await describeProgress(handle, runId).catch(() => lastLine);
    if (line !== lastLine) {
      process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
      lastLine = line;
    }
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, pollEveryMs))]);
  }
  if (process.stderr.isTTY && lastLine) process.stderr.write('\n');
  return result;
}

async function describeProgress(handle: WorkflowHandle, runId: string): Promise<string> {
  const run = handle.client.getHandle(handle.workflowId, runId);
  const [progress, description] = await Promise.all([run.query(progressQuery), run.describe()]);
  const parts = [`${handle.workflowId}: ${(progress as BackupProgress).phase}`];
  const veto = (progress as BackupProgress).veto;
  if (veto) parts.push(`host veto (${veto.files.join(', ')}), check ${veto.checks}, next at ${veto.nextCheckAt}`);
  for (const activity of description.raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    const transfer = payload ? defaultPayloadConverter.fromPayload<TransferProgress>(payload) : undefined;
    if (transfer && transfer.bytes > 0) {
      parts.push(`${transfer.percent}% ${transfer.bytes} bytes, ${transfer.filesTransferred} files, ${transfer.rate}`);
    }
    if ((activity.attempt ?? 1) > 1) {
      parts.push(`attempt ${activity.attempt}${activity.lastFailure?.message ? ` (last: ${activity.lastFailure.message.split('\n')[0]!.slice(0, 160)})` : ''}`);
    }
  }
  parts.push(formatDuration(Date.now() - Date.parse((progress as BackupProgress).startedAt)));
  return parts.join(' · ');
}
