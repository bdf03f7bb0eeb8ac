// `--wait`: follow one backup run, printing its phase and transfer progress until it ends.
import { defaultPayloadConverter, type WorkflowHandle } from '@temporalio/client';
import type { BackupProgress, BackupSummary, TransferProgress } from '../domain/backup.js';
import { formatDuration } from '../domain/duration.js';
import { progressQueryName } from '../domain/names.js';
import { formatBytes } from './snapshots.js';

/** How often the run is asked for its progress: every second on a terminal (a live line); for a log, whose
 * lines come on a change of phase or every 30 s, every 5 s, so that many watchers (scripts starting a fleet
 * with --wait) cost the worker and Temporal little. The end is seen at once either way (result()). */
const pollEveryMs = { terminal: 1_000, log: 5_000 };
const logEveryMs = 30_000;

/** Waits for the run's result, showing progress on stderr (one rewritten line on a terminal). */
export async function watchBackup(handle: WorkflowHandle, runId: string): Promise<BackupSummary> {
  const result = handle.client.getHandle(handle.workflowId, runId).result() as Promise<BackupSummary>;
  let done = false;
  result.then(
    () => (done = true),
    () => (done = true),
  );
  const terminal = process.stderr.isTTY === true;
  let lastLine = '';
  let lastKey = '';
  let lastLogged = 0;
  while (!done) {
    const progress = await describeProgress(handle, runId).catch(() => ({ line: lastLine, key: lastKey }));
    // A terminal gets one line rewritten every second; a log gets a line when the phase or attempt
    // changes, and otherwise at most every 30 s.
    const due = terminal
      ? progress.line !== lastLine
      : progress.key !== lastKey || Date.now() - lastLogged >= logEveryMs;
    if (due) {
      process.stderr.write(terminal ? `\r\x1b[2K${progress.line}` : `${progress.line}\n`);
      lastLine = progress.line;
      lastKey = progress.key;
      lastLogged = Date.now();
    }
    const pause = terminal ? pollEveryMs.terminal : pollEveryMs.log;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, pause)))]);
    clearTimeout(timer);
  }
  if (terminal && lastLine) process.stderr.write('\n');
  return result;
}

/** The progress line, and its key: the line without the parts that change every second. */
async function describeProgress(handle: WorkflowHandle, runId: string): Promise<{ line: string; key: string }> {
  const run = handle.client.getHandle(handle.workflowId, runId);
  const [progress, description] = await Promise.all([run.query<BackupProgress>(progressQueryName), run.describe()]);
  const parts = [`${handle.workflowId}: ${(progress as BackupProgress).phase}`];
  const veto = (progress as BackupProgress).veto;
  if (veto) parts.push(`host veto (${veto.files.join(', ')}), check ${veto.checks}, next at ${veto.nextCheckAt}`);
  const keyParts = [...parts];
  for (const activity of description.raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    const transfer = payload ? defaultPayloadConverter.fromPayload<TransferProgress>(payload) : undefined;
    if (transfer && transfer.bytes > 0) {
      parts.push(
        `${transfer.percent}% ${formatBytes(transfer.bytes)}, ${transfer.filesTransferred} files, ${transfer.rate}`,
      );
    }
    if ((activity.attempt ?? 1) > 1) {
      const attempt = `attempt ${activity.attempt}${activity.lastFailure?.message ? ` (last: ${activity.lastFailure.message.split('\n')[0]!.slice(0, 160)})` : ''}`;
      parts.push(attempt);
      keyParts.push(attempt);
    }
  }
  parts.push(formatDuration(Date.now() - Date.parse((progress as BackupProgress).startedAt)));
  return { line: parts.join(' · '), key: keyParts.join(' · ') };
}
