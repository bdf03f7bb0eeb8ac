// `tidemark restore --host H ... (--to DIR | --to-host HOST [--target-dir DIR])`: starts a restoreHost
// workflow on the server that owns the host's pool and, with --wait (implied by --dry-run), follows it;
// with --offline, runs the same steps in this process on that server (no Temporal, no worker).
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ExitCode } from '../domain/errors.js';
import { restoreInput, type RestoreOptions } from '../inventory/restore-input.js';
import { controlTaskQueue, restoreProgressQueryName, runUrl } from '../domain/names.js';
import { restoreWorkflowId, type RestoreInput, type RestoreProgress, type RestoreSummary } from '../domain/restore.js';
import { resolveTemporal } from '../temporal/settings.js';
import type { Inventory } from '../inventory/schema.js';
import { connectClient } from '../temporal/connection.js';
import { followRun } from './follow-run.js';
import { formatTransfer, movingTransfer } from './transfer-progress.js';
import { watchForWorker } from './worker-check.js';

export { restoreInput, type RestoreOptions } from '../inventory/restore-input.js';

/** Starts the restore; with --wait returns 0 when it finished, 1 when it failed, 2 when the request could
 * not work (no such snapshot or path). */
export async function restore(inventory: Inventory, options: RestoreOptions, inventoryPath: string): Promise<ExitCode> {
  const input = restoreInput(inventory, options);
  if (options.offline) return restoreOffline(input, inventoryPath, options);
  const temporal = resolveTemporal(inventory);
  const client = await connectClient(temporal);
  const workflowId = restoreWorkflowId(input.host, input.server, new Date(), randomBytes(3).toString('hex'));
  const handle = await client.workflow.start('restoreHost', { taskQueue: controlTaskQueue, workflowId, args: [input] });
  console.error(
    `started ${workflowId} run ${handle.firstExecutionRunId}\n  ${runUrl(temporal, workflowId, handle.firstExecutionRunId)}`,
  );
  if (!options.wait && !options.dryRun) return ExitCode.ok;
  try {
    const stopWatching = watchForWorker(client, input.server, 'restore');
    try {
      printSummary(await followRestore(client, workflowId, handle.firstExecutionRunId), options);
    } finally {
      stopWatching();
    }
    return ExitCode.ok;
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    console.error(`FAILED: ${workflowId}: ${message}`);
    return cause instanceof ApplicationFailure && cause.type === 'USAGE' ? ExitCode.usage : ExitCode.backupFailed;
  }
}

function printSummary(summary: RestoreSummary, options: Pick<RestoreOptions, 'json'>): void {
  if (options.json) {
    console.log(JSON.stringify(summary, null, 2));
    return;
  }
  for (const line of summary.changes ?? []) console.log(line);
  if (summary.changesOmitted) console.log(`… ${summary.changesOmitted} more changes not shown`);
  console.log(`SUCCESS: ${summary.message}`);
}

/** `--offline`: the worker's restore steps in this process, reading this machine's pool; Ctrl-C stops rsync
 * and still closes the snapshot. Progress goes to stderr as with --wait; the exit codes are the same. */
async function restoreOffline(input: RestoreInput, inventoryPath: string, options: RestoreOptions): Promise<ExitCode> {
  const { restoreOffline: run, OfflineRestoreFailure } = await import('../worker/run-worker.js');
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort(new Error('interrupted (SIGINT/SIGTERM)'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const label = `offline restore of ${input.host} from ${input.server}`;
  let last = '';
  try {
    const summary = await run(input, {
      inventoryPath,
      signal: interrupted.signal,
      onProgress: (phase, copy) => {
        const line = copy && copy.bytes > 0 ? `${label}: ${phase} · ${formatTransfer(copy)}` : `${label}: ${phase}`;
        if (line !== last) process.stderr.write(`${line}\n`);
        last = line;
      },
    });
    printSummary(summary, options);
    return ExitCode.ok;
  } catch (error) {
    console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof OfflineRestoreFailure && error.usage ? ExitCode.usage : ExitCode.backupFailed;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

/** Waits for the result, writing the phase and copy progress to stderr (see followRun). */
async function followRestore(client: Client, workflowId: string, runId: string): Promise<RestoreSummary> {
  const handle = client.workflow.getHandle(workflowId, runId);
  return followRun<RestoreProgress, RestoreSummary>(
    handle,
    () => handle.query<RestoreProgress>(restoreProgressQueryName),
    (progress, description) => {
      const parts = [`${handle.workflowId}: ${progress.phase}`];
      if (progress.snapshot) parts.push(progress.snapshot);
      const key = parts.join(' · ');
      const copy = movingTransfer(description);
      if (copy) parts.push(formatTransfer(copy));
      return { line: parts.join(' · '), key, moving: copy };
    },
  );
}
