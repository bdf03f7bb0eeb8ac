// The steps between ensureDataset and the transfer (host probe, veto, hooks), and the backup server's after-hook.
// Workflow code: deterministic, no Node modules; the work is done by activities on the server's queue.
//
//   probeHost   veto directory, mount table, exclude file (one ssh call); vetoed → durable sleep, ask again
//   before      servers.<name>.hooks.before on the backup server (failure: FAILED, nothing copied)
//   hooks       run-parts of the host's hook directory over ssh (failure: FAILED; copy unless onFailure abort)
//   excludes    standard + inventory + host file, merged in that order into the transfer's plan
import { sleep } from '@temporalio/workflow';
import type { BackupPlan, BackupProgress, BackupStatus, BackupSummary } from '../domain/backup.js';
import { formatDuration } from '../domain/duration.js';
import { mergeExcludes } from '../domain/excludes.js';
import { describeHookFailure, type HookResult, type HostProbe, type HostStepsSummary } from '../domain/host-steps.js';
import { normalizePath } from '../domain/mounts.js';
import { unfinishedSummary } from './notify.js';
import { onServer, stepPolicy } from './step-policy.js';

export interface PreparedHost {
  /** The plan the transfer runs with: selected paths and the merged excludes. */
  transferPlan: BackupPlan;
  summary?: HostStepsSummary;
  /** The run ends here without copying (host veto held, before-hook failed, hooks failed with abort). */
  skipped?: BackupSummary;
  /** A hook failure: the run is FAILED, but the copy and snapshot still happen (SOWN behaviour). */
  failure?: string;
}

/** Activities talking to the host: retried like the transfer (ssh trouble), never for script failures. */
function hostActivities(plan: BackupPlan, startToCloseMs: number) {
  return onServer(plan.server, stepPolicy.host(plan, startToCloseMs));
}

function serverHookActivities(plan: BackupPlan, timeoutMs: number) {
  return onServer(plan.server, stepPolicy.serverHook(timeoutMs));
}

export async function prepareHost(
  plan: BackupPlan,
  progress: BackupProgress,
  startedMs: number,
): Promise<PreparedHost> {
  const steps = plan.hostSteps;
  if (!steps) return { transferPlan: plan };
  const summary: HostStepsSummary = {
    hooks: { status: 'skipped', failed: [] },
    vetoed: 0,
    selection: { mode: steps.selection.mode, paths: plan.paths, skippedMounts: [] },
    excludes: { standard: 0, inventory: plan.excludes.length, host: 0, total: plan.excludes.length, malformed: [] },
    serverHooks: {},
  };
  const skip = (status: BackupStatus, message: string): PreparedHost => ({
    transferPlan: plan,
    summary,
    skipped: { ...unfinishedSummary(plan, plan, status, message, startedMs), hostSteps: summary },
  });

  // PlanB's veto: while the host has files in its do-not-run directory, wait (a durable timer) and ask again.
  let probe: HostProbe;
  for (let checks = 1; ; checks++) {
    progress.phase = 'host-check';
    probe = await hostActivities(plan, 120_000).probeHost(plan);
    if (probe.vetoFiles.length === 0) break;
    summary.vetoed = checks;
    if (checks > steps.veto.retries) {
      delete progress.veto;
      return skip(
        'WARNING',
        `skipped: ${plan.host} vetoed the backup ${checks} times over ${formatDuration(Date.now() - startedMs)} ` +
          `(${steps.veto.dir}: ${probe.vetoFiles.slice(0, 5).join(', ')}); nothing copied`,
      );
    }
    progress.phase = 'vetoed';
    progress.veto = {
      files: probe.vetoFiles.slice(0, 10),
      checks,
      nextCheckAt: new Date(Date.now() + steps.veto.retryIntervalMs).toISOString(),
    };
    await sleep(steps.veto.retryIntervalMs);
  }
  delete progress.veto;
  summary.selection = { mode: steps.selection.mode, paths: probe.paths, skippedMounts: probe.skippedMounts };

  if (steps.server.before) {
    progress.phase = 'hooks';
    const before = await serverHookActivities(plan, steps.server.timeoutMs).runServerHook(
      steps.server.before,
      hookEnvironment(plan, 'RUNNING', null),
      steps.server.timeoutMs,
    );
    summary.serverHooks.before = before.ok;
    if (!before.ok) {
      return skip(
        'FAILED',
        `backup server's before-hook ${before.script} ${before.exitCode === null ? 'could not run' : `exited ${before.exitCode}`}: ${before.outputTail.slice(-3).join(' | ')}; nothing copied`,
      );
    }
  }

  progress.phase = 'hooks';
  // The probe saw no hook directory: nothing to run, and no ssh call to make for it.
  const hooks: HookResult = probe.hooksAbsent
    ? { status: 'absent', failed: [], outputTail: [], exitCode: 0, durationMs: 0 }
    : await hostActivities(plan, steps.hooks.timeoutMs + 300_000).runHostHooks(plan);
  summary.hooks = { status: hooks.status, failed: hooks.failed };
  let failure: string | undefined;
  if (hooks.status === 'failed' || hooks.status === 'timeout') {
    failure = describeHookFailure(hooks, steps.hooks.dir, steps.hooks.timeoutMs);
    if (steps.hooks.onFailure === 'abort') return skip('FAILED', `${failure}; nothing copied (hooks.onFailure: abort)`);
  }

  // Standard excludes only for full-system copies: the mount-table selection, or explicit paths listing the root.
  const root = normalizePath(steps.selection.root);
  const coversRoot = steps.selection.mode === 'mounts' || plan.paths.some((path) => normalizePath(path) === root);
  const merged = mergeExcludes({
    standard: steps.standardExcludes && coversRoot,
    root,
    sourcePaths: probe.paths,
    inventory: plan.excludes,
    host: probe.hostExcludes,
  });
  summary.excludes = { ...merged.counts, total: merged.patterns.length, malformed: probe.malformedExcludes };
  return {
    transferPlan: { ...plan, paths: probe.paths, excludes: merged.patterns },
    summary,
    ...(failure ? { failure } : {}),
  };
}

/**
 * The end of a run: a hook failure makes it FAILED (message first), the host-step figures go into the
 * summary, then the backup server's after-hook runs (its failure turns SUCCESS into WARNING).
 */
export async function finishRun(plan: BackupPlan, host: PreparedHost, summary: BackupSummary): Promise<BackupSummary> {
  const result: BackupSummary = { ...summary, ...(host.summary ? { hostSteps: host.summary } : {}) };
  if (host.failure) {
    result.status = 'FAILED';
    result.message = `${host.failure}; copied anyway: ${summary.message}`;
  }
  return runAfterHook(plan, result);
}

/** Runs `servers.<name>.hooks.after` with the run's outcome; a no-op without one. */
export async function runAfterHook(plan: BackupPlan, summary: BackupSummary): Promise<BackupSummary> {
  const after = plan.hostSteps?.server.after;
  if (!after) return summary;
  const timeoutMs = plan.hostSteps!.server.timeoutMs;
  const result = await serverHookActivities(plan, timeoutMs).runServerHook(
    after,
    hookEnvironment(plan, summary.status, summary.snapshot, summary.message),
    timeoutMs,
  );
  const hostSteps = summary.hostSteps
    ? { ...summary.hostSteps, serverHooks: { ...summary.hostSteps.serverHooks, after: result.ok } }
    : undefined;
  if (result.ok) return { ...summary, ...(hostSteps ? { hostSteps } : {}) };
  return {
    ...summary,
    ...(hostSteps ? { hostSteps } : {}),
    status: summary.status === 'SUCCESS' ? 'WARNING' : summary.status,
    message: `${summary.message}; backup server's after-hook ${after} ${result.exitCode === null ? 'could not run' : `exited ${result.exitCode}`}: ${result.outputTail.slice(-3).join(' | ')}`,
  };
}

/** A failed run still tells the after-hook (TIDEMARK_STATUS=FAILED); its own failure is only swallowed. */
export async function runFailedAfterHook(plan: BackupPlan, message: string): Promise<void> {
  if (!plan.hostSteps?.server.after) return;
  try {
    await runAfterHook(plan, {
      host: plan.host,
      server: plan.server,
      status: 'FAILED',
      dataset: plan.dataset,
      snapshot: null,
      filesTransferred: 0,
      bytesTransferred: 0,
      bytesReceived: 0,
      durationMs: 0,
      message,
    });
  } catch {
    // The run's own failure is what gets reported.
  }
}

function hookEnvironment(
  plan: BackupPlan,
  status: string,
  snapshot: string | null,
  message = '',
): Record<string, string> {
  return {
    TIDEMARK_HOST: plan.host,
    TIDEMARK_SERVER: plan.server,
    TIDEMARK_DATASET: plan.dataset,
    TIDEMARK_STATUS: status,
    TIDEMARK_SNAPSHOT: snapshot ?? '',
    TIDEMARK_MESSAGE: message,
  };
}
