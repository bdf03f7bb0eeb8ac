// `tidemark restore --offline`: the restoreHost workflow's steps run in this process on the backup server,
// with no Temporal and no worker (the day the Temporal host is gone). The same functions as the workflow's
// activities: plan and policy (restore-policy.ts), open + hold, copy, close (restore.ts). What the workflow
// adds and this does not: retries of a failed step and a transfer slot.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TransferProgress } from '../domain/backup.js';
import { formatDuration } from '../domain/duration.js';
import {
  restoreSummary,
  restoreWorkflowId,
  type RestoreInput,
  type RestoreProgress,
  type RestoreSummary,
} from '../domain/restore.js';
import { plannedRestore } from './restore-policy.js';
import {
  closeRestoreSnapshot,
  offlineRunPrefix,
  openRestoreSnapshot,
  restoreFiles,
  type RestoreRun,
} from './restore.js';

export interface OfflineRestoreOptions {
  inventoryPath: string;
  /** Called on each phase change and with the copy's figures (every second while rsync runs). */
  onProgress(phase: RestoreProgress['phase'], copy?: TransferProgress): void;
  /** Aborting it (Ctrl-C) kills rsync; the snapshot is closed all the same. */
  signal: AbortSignal;
}

/** A failed offline restore: USAGE when the request cannot work as given (the CLI exits 2), else failed. */
export class OfflineRestoreFailure extends Error {
  constructor(
    message: string,
    readonly usage: boolean,
  ) {
    super(message);
  }
}

export async function restoreOffline(input: RestoreInput, options: OfflineRestoreOptions): Promise<RestoreSummary> {
  const started = Date.now();
  const run: RestoreRun = {
    workflowId: restoreWorkflowId(input.host, input.server, new Date(started), 'offline'),
    runId: `${offlineRunPrefix}${process.pid}-${randomBytes(4).toString('hex')}`,
    heartbeat: (details) => options.onProgress('copying', details),
    log: (message) => process.stderr.write(`${message}\n`),
    signal: options.signal,
    // Temporal cannot be asked: a workflow run's leftovers stay (keep when in doubt).
    runIsClosed: () => Promise.resolve(false),
  };
  let phase: RestoreProgress['phase'] = 'planning';
  const enter = (next: RestoreProgress['phase']) => {
    phase = next;
    options.onProgress(next);
  };
  enter('planning');
  let plan;
  try {
    plan = await plannedRestore({ inventoryPath: options.inventoryPath, server: input.server }, input);
    enter('opening');
    const view = await openRestoreSnapshot(plan, run);
    enter('copying');
    const copy = await restoreFiles(plan, view, run);
    enter('closing');
    return restoreSummary(plan, copy, formatDuration(Date.now() - started));
  } catch (error) {
    const usage = error instanceof ApplicationFailure && error.type === 'USAGE';
    const message = error instanceof Error ? error.message : String(error);
    throw new OfflineRestoreFailure(
      `restore of ${input.host} from ${input.server} failed during ${phase}: ${message}`,
      usage,
    );
  } finally {
    // The hold and the clone go whatever happened, as in the workflow.
    if (plan) await closeRestoreSnapshot(plan, run);
  }
}
