// The restore's steps on the backup server that owns the pool: plan (which snapshot, where to), open the
// snapshot read-only and hold it, copy with rsync, and close (release the hold, destroy the clone).
import { ApplicationFailure, Context } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import { WorkflowNotFoundError } from '@temporalio/client';
import { TidemarkError } from '../domain/errors.js';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import {
  asDirectory,
  dryRunLineCap,
  relativeRestorePath,
  restoreInputProblems,
  pickSnapshot,
  restoreRsyncArgs,
  type OpenedSnapshot,
  type RestoreCopyResult,
  type RestoreInput,
  type RestorePlan,
} from '../domain/restore.js';
import type { TransferProgress } from '../domain/backup.js';
import { printable } from '../domain/printable.js';
import { classifyRsyncExit } from '../domain/rsync-exit.js';
import { advanceProgress, parseStats } from '../domain/rsync-output.js';
import { startChild } from '../subprocess/runner.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import { resolveHost, resolveServer, resolveSsh } from '../inventory/resolve.js';
import { lookupBeneath } from '../pool/beneath.js';
import { holdForRestore, releaseRestoreHold, restoreHolds } from '../pool/restore-hold.js';
import { closeClone, openSnapshot, readerClones } from '../pool/snapshot-reader.js';
import { listSnapshots } from '../pool/zfs.js';
import { hostDataset } from '../domain/names.js';
import { defaultHostTargetDir, freshTargetName } from '../domain/restore-target.js';
import { makeFreshTarget } from './restore-target.js';
import { inventoryWithHosts } from '../inventory/host-lookup.js';
import { hostKeyUnderName } from './host-key-name.js';

const heartbeatEveryMs = 1_000;
const stderrTailLines = 20;
const stdoutTailChars = 8_192;

/** Failure type of a request that cannot work as given (the CLI exits 2 for it). */
export const restoreUsage = 'USAGE';

/** Picks the snapshot and resolves the target from the inventory as it is now. */
export async function planRestore(inventoryPath: string, input: RestoreInput): Promise<RestorePlan> {
  try {
    const problems = restoreInputProblems(input);
    if (problems.length > 0) throw new TidemarkError('USAGE', problems.join('; '));
    // The host (and a --to-host) resolve as for a backup: the file, then NetBox (inventory/host-lookup.ts).
    const { inventory } = await inventoryWithHosts(
      (await keptInventory(inventoryPath).read()).inventory,
      [input.host, ...(input.to.kind === 'host' ? [input.to.host] : [])],
      { server: input.server },
    );
    const host = resolveHost(inventory, input.host);
    const { dataset: serverDataset } = resolveServer(inventory, host, input.server);
    const dataset = hostDataset(serverDataset, host.host);
    const names = (
      await listSnapshots(dataset).catch((error: Error) => {
        if (/does not exist/.test(error.message))
          throw new TidemarkError(
            'USAGE',
            `--host: ${host.host} has no backup on ${input.server} (no dataset ${dataset})`,
          );
        throw error;
      })
    ).map((snapshot) => snapshot.name);
    const picked = pickSnapshot(names, {
      ...(input.snapshot !== undefined ? { snapshot: input.snapshot } : {}),
      ...(input.at !== undefined ? { at: input.at } : {}),
    });
    if ('problem' in picked) throw new TidemarkError('USAGE', picked.problem);
    let target: RestorePlan['target'];
    if (input.to.kind === 'local') {
      target = { kind: 'local', dir: asDirectory(input.to.dir) };
    } else {
      const to = resolveHost(inventory, input.to.host);
      const ssh = resolveSsh(inventory);
      // The nonce makes the default target a name nobody could have prepared on the host before this run.
      const dir = asDirectory(
        input.to.dir ?? defaultHostTargetDir(picked.name, randomBytes(4).toString('hex'), to.restoreRoot),
      );
      const fresh = freshTargetName(dir, picked.name, to.restoreRoot);
      target = {
        kind: 'host',
        host: to.host,
        dir,
        restoreRoot: to.restoreRoot,
        ...(fresh !== undefined ? { fresh } : {}),
        remote: { address: to.address, port: to.port, user: to.user, sudo: to.sudo },
        ssh: { identityFile: ssh.identityFile, knownHostsFile: ssh.knownHostsFile, hostKeyAlias: to.host },
      };
    }
    return {
      host: host.host,
      server: input.server,
      dataset,
      snapshot: picked.name,
      paths: input.paths,
      target,
      dryRun: input.dryRun ?? false,
      ...(input.bandwidthLimit ? { bandwidthLimit: input.bandwidthLimit } : {}),
      ...(input.specialFiles ? { specialFiles: true } : {}),
      ioTimeoutSeconds: host.transfer.ioTimeoutSeconds,
      heartbeatTimeoutMs: host.transfer.heartbeatTimeoutMs,
    };
  } catch (error) {
    if (error instanceof TidemarkError) throw ApplicationFailure.nonRetryable(error.message, restoreUsage);
    throw error;
  }
}

/** Who runs a restore's steps: a restoreHost workflow's activities, or `tidemark restore --offline` in its
 * own process (no Temporal). The steps below take it as their last argument; by default the activity's. */
export interface RestoreRun {
  workflowId: string;
  runId: string;
  /** Reports the copy's progress (the activity heartbeat, or the offline command's progress line). */
  heartbeat(details: TransferProgress): void;
  /** Aborted when the run is cancelled: rsync is killed and `signal.reason` thrown. */
  signal: AbortSignal;
  /** Says something worth an INFO line (the activity's logger, or the offline command's stderr). */
  log(message: string): void;
  /** Whether another restore run that left a clone or hold behind has ended. */
  runIsClosed(workflowId: string, runId: string): Promise<boolean>;
}

/** The restore run of the current activity; `say` writes the worker's INFO lines. */
export function activityRun(say: (message: string) => void = () => {}): RestoreRun {
  const context = Context.current();
  const execution = context.info.workflowExecution;
  if (!execution) throw new Error('restore steps run inside a restoreHost workflow');
  return {
    workflowId: execution.workflowId,
    runId: execution.runId,
    heartbeat: (details) => context.heartbeat(details),
    log: say,
    signal: context.cancellationSignal,
    runIsClosed: (workflowId, runId) => workflowRunIsClosed(context, workflowId, runId),
  };
}

/** Run ids of offline restores: `offline-<pid>-<nonce>` (the pool is local, so the pid tells whether it lives). */
export const offlineRunPrefix = 'offline-';

/** Whether an offline restore's process has ended; a run id of another shape is not one (undefined). */
export function offlineRunIsClosed(runId: string): boolean | undefined {
  const pid = new RegExp(`^${offlineRunPrefix}(\\d+)-`).exec(runId)?.[1];
  if (pid === undefined) return undefined;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The run's clone name and owner mark: derived from the run, so the close step needs nothing else. */
export function runIdentity(
  plan: Pick<RestorePlan, 'dataset'>,
  run: Pick<RestoreRun, 'workflowId' | 'runId'> = activityRun(),
): {
  workflowId: string;
  runId: string;
  clone: string;
  owner: string;
} {
  return {
    workflowId: run.workflowId,
    runId: run.runId,
    clone: `${plan.dataset}-restore-${run.runId}`,
    owner: `run ${run.workflowId} ${run.runId}`,
  };
}

/** Cleans up after dead restores of this dataset, holds the snapshot, opens it read-only and checks that
 * every requested path is in it. */
export async function openRestoreSnapshot(plan: RestorePlan, run = activityRun()): Promise<OpenedSnapshot> {
  const me = runIdentity(plan, run);
  await cleanUpClosedRuns(plan.dataset, run);
  const snapshot = `${plan.dataset}@${plan.snapshot}`;
  try {
    await holdForRestore(snapshot, me.workflowId, me.runId);
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) {
      throw ApplicationFailure.nonRetryable(
        `snapshot ${snapshot} is gone (destroyed after it was picked); run the restore again`,
        restoreUsage,
      );
    }
    throw error;
  }
  const view = await openSnapshot(plan.dataset, plan.snapshot, me.clone, me.owner);
  const missing = [];
  for (const path of plan.paths) {
    // rsync would follow a symlink the host made on the way (out of the snapshot, into this server).
    const found = await lookupBeneath(view.root, relativeRestorePath(path));
    if (!found.found && found.why === 'symlink')
      throw ApplicationFailure.nonRetryable(
        `--path ${path}: ${found.at} is a symlink in snapshot ${plan.snapshot}; restore the path it points to, or ${found.at} itself`,
        restoreUsage,
      );
    if (!found.found) missing.push(path);
  }
  if (missing.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `--path: not in snapshot ${plan.snapshot}: ${missing.join(', ')} ("tidemark files" lists what it holds)`,
      restoreUsage,
    );
  }
  return { root: view.root, ...(view.clone ? { clone: view.clone } : {}) };
}

/** Releases the run's hold and destroys its clone; idempotent (the workflow calls it whatever happened). */
export async function closeRestoreSnapshot(plan: RestorePlan, run = activityRun()): Promise<void> {
  const me = runIdentity(plan, run);
  await closeClone(me.clone);
  await releaseRestoreHold(`${plan.dataset}@${plan.snapshot}`, me.runId);
}

/** "The next run cleans up what a dead one left": clones and holds of restore runs that are closed. A run
 * whose state cannot be read is left alone (keep when in doubt). */
async function cleanUpClosedRuns(dataset: string, me: RestoreRun): Promise<void> {
  const closed = new Map<string, boolean>();
  const isClosed = async (workflowId: string, runId: string) => {
    if (runId === me.runId) return false;
    if (!closed.has(runId)) closed.set(runId, offlineRunIsClosed(runId) ?? (await me.runIsClosed(workflowId, runId)));
    return closed.get(runId)!;
  };
  for (const clone of await readerClones(dataset, 'restore')) {
    const [kind, workflowId = '', runId = ''] = clone.owner.split(' ');
    if (kind === 'run' && (await isClosed(workflowId, runId))) await closeClone(clone.name);
  }
  for (const hold of await restoreHolds(dataset)) {
    if (await isClosed(hold.workflowId, hold.runId)) await releaseRestoreHold(hold.snapshot, hold.runId);
  }
}

async function workflowRunIsClosed(context: Context, workflowId: string, runId: string): Promise<boolean> {
  try {
    const description = await context.client.workflow.getHandle(workflowId, runId).describe();
    return description.status.name !== 'RUNNING';
  } catch (error) {
    return error instanceof WorkflowNotFoundError;
  }
}

/** Copies the plan's paths out of the opened snapshot; heartbeats rsync's progress; cancel kills rsync. */
export async function restoreFiles(
  plan: RestorePlan,
  view: OpenedSnapshot,
  restoreRun = activityRun(),
): Promise<RestoreCopyResult> {
  const started = Date.now();
  const cancelSignal = restoreRun.signal;
  let progress = { bytes: 0, percent: 0, filesTransferred: 0, rate: '' };
  const target = plan.target;
  let topEntries: string[] | undefined;
  // Before the first ssh to the target: known_hosts lists it under its name (copied from its address).
  if (target.kind === 'host')
    await hostKeyUnderName({ ssh: target.ssh, source: target.remote }, (message) => restoreRun.log(message));
  if (target.kind === 'host' && target.fresh !== undefined) topEntries = await topLevelNames(view.root);
  let rsyncArgs: string[];
  try {
    rsyncArgs = restoreRsyncArgs(plan, view.root, topEntries);
  } catch (error) {
    // Refused before the target is made: nothing to retry, nothing left behind on the host.
    if (error instanceof TidemarkError) throw ApplicationFailure.nonRetryable(error.message, restoreUsage);
    throw error;
  }
  if (target.kind === 'host' && target.fresh !== undefined && !plan.dryRun)
    await makeFreshTarget({ ...target, fresh: target.fresh }, cancelSignal);
  // subprocess/runner.ts: rsync dies with the worker (even SIGKILL), so a dead worker leaves no reader
  // of the clone behind; its process group (ssh included) is stopped as one on cancel; the cleaned
  // environment (no RSYNC_OLD_ARGS, no secrets) and --secluded-args, as the backup's rsync.
  const run = startChild('rsync', rsyncArgs, {
    signal: cancelSignal,
    buffer: false,
    encoding: 'utf8',
  });
  const child = run.process;

  let stdoutTail = '';
  let stdoutRest = '';
  const changes: string[] = [];
  let changesOmitted = 0;
  child.stdout?.on('data', (chunk: Buffer | string) => {
    const text = chunk.toString();
    if (plan.dryRun) {
      const lines = (stdoutRest + text).split('\n');
      stdoutRest = lines.pop() ?? '';
      for (const line of lines.filter((entry) => entry.trim() !== '')) {
        if (changes.length < dryRunLineCap) changes.push(printable(line));
        else changesOmitted += 1;
      }
      progress = { ...progress, filesTransferred: changes.length + changesOmitted };
      return;
    }
    stdoutTail = (stdoutTail + text).slice(-stdoutTailChars);
    progress = advanceProgress(progress, stdoutTail);
  });
  const stderrLines: string[] = [];
  child.stderr?.on('data', (chunk: Buffer | string) => {
    stderrLines.push(
      ...chunk
        .toString()
        .split(/\r?\n/)
        .filter((line) => line.trim() !== '')
        .map(printable),
    );
    stderrLines.splice(0, Math.max(0, stderrLines.length - stderrTailLines));
  });

  const heartbeat = setInterval(() => restoreRun.heartbeat(progress), heartbeatEveryMs);
  restoreRun.heartbeat(progress);
  let result;
  try {
    result = await run.result;
  } finally {
    clearInterval(heartbeat);
  }
  if (cancelSignal.aborted) throw cancelSignal.reason;
  if (plan.dryRun && stdoutRest.trim() !== '') {
    if (changes.length < dryRunLineCap) changes.push(printable(stdoutRest));
    else changesOmitted += 1;
  }

  const exitCode = result.exitCode ?? -1;
  const outcome = result.exitCode === undefined ? 'transient' : classifyRsyncExit(exitCode);
  if (outcome === 'complete') {
    const stats = parseStats(stdoutTail);
    return {
      filesTransferred: plan.dryRun ? changes.length + changesOmitted : stats.filesTransferred,
      bytesTransferred: stats.bytesTransferred,
      durationMs: Date.now() - started,
      ...(plan.dryRun ? { changes, changesOmitted } : {}),
    };
  }
  const how = result.exitCode === undefined ? `was killed by ${result.signal ?? 'a signal'}` : `exited ${exitCode}`;
  const message = `rsync restoring ${plan.dataset}@${plan.snapshot} ${how}: ${stderrLines.join('\n') || '(no error output)'}`;
  // Some files could not be written (23): a retry would not change that; the operator must look.
  if (outcome === 'transient') throw activityFailure(message, 'RsyncTransient');
  throw activityFailure(message, outcome === 'partial' ? 'RestoreIncomplete' : 'RsyncFailed');
}

/** The snapshot root's entries by name, or undefined when a name is not valid UTF-8 (it could not be passed
 * through an argument string unchanged; the whole root is sent instead). */
async function topLevelNames(root: string): Promise<string[] | undefined> {
  const names = await readdir(root, { encoding: 'buffer' });
  const decoded = names.map((name) => name.toString('utf8'));
  return decoded.every((name, index) => Buffer.from(name, 'utf8').equals(names[index]!)) ? decoded : undefined;
}
