// `tidemark start-backup --host vpn [--server S] [--wait]`: start (or join) one backup per server.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { BackupInput, BackupSummary } from '../domain/backup.js';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { keepReasonProblem } from '../domain/keep.js';
import { backupWorkflowId, controlTaskQueue, runUrl } from '../domain/names.js';
import type { Inventory } from '../inventory/schema.js';
import { resolveHost, resolveServer } from '../inventory/resolve.js';
import { resolveTemporal } from '../temporal/settings.js';
import { runSummary, startAttributes } from '../domain/search-attributes.js';
import { explainMissingSearchAttributes } from './temporal-setup.js';
import { connectClient } from '../temporal/connection.js';
import { watchBackup } from './watch-backup.js';
import { watchForWorker } from './worker-check.js';

export interface StartBackupOptions {
  host: string;
  server?: string;
  wait?: boolean;
  /** Hold the new snapshot with this reason until `tidemark release`. */
  keep?: string;
  /** Let this run through the shrink guard (recorded in the history as part of the input). */
  allowShrink?: boolean;
  /** Exit 0 rather than 5 (ExitCode.backupWarning) when a waited-for run ends WARNING. */
  okOnWarning?: boolean;
  /** Print one JSON array on stdout (each run, with its summary after --wait); the messages go to stderr. */
  json?: boolean;
}

/** One element of `start-backup --json`. */
export interface StartedRunReport {
  host: string;
  server: string;
  workflowId: string;
  runId: string;
  url: string;
  /** A backup of the pair was already running: this is that run. */
  alreadyRunning: boolean;
  /** With --wait: how the run ended (absent when the workflow itself failed: see `error`). */
  summary?: BackupSummary;
  error?: string;
}

/** Starts the backups and returns the CLI's exit code. */
export async function startBackup(inventory: Inventory, options: StartBackupOptions): Promise<ExitCode> {
  const host = resolveHost(inventory, options.host);
  const servers = options.server ? [options.server] : host.servers;
  for (const server of servers) resolveServer(inventory, host, server);
  const keepProblem = options.keep === undefined ? undefined : keepReasonProblem(options.keep);
  if (keepProblem) throw new TidemarkError('USAGE', `--keep: ${keepProblem}`);
  const temporal = resolveTemporal(inventory);
  const client = await connectClient(temporal);

  // With --json, stdout carries the JSON alone.
  const say = options.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  let exitCode: ExitCode = ExitCode.ok;
  const runs: StartedRunReport[] = [];
  for (const server of servers) {
    const started = await startOne(client, {
      host: host.host,
      server,
      ...(options.keep !== undefined ? { keep: options.keep } : {}),
      ...(options.allowShrink ? { allowShrink: true } : {}),
    });
    const link = runUrl(temporal, started.workflowId, started.runId);
    if (started.joined) {
      say(
        `a backup of ${host.host} on ${server} is already running: ${started.workflowId} run ${started.runId}, started ${started.startTime}\n  ${link}`,
      );
      if (!options.wait) exitCode = ExitCode.alreadyRunning;
      if (options.keep !== undefined)
        say('  --keep does not apply to a backup that is already running: its snapshot will not be held');
    } else {
      say(`started ${started.workflowId} run ${started.runId}\n  ${link}`);
    }
    runs.push({
      host: host.host,
      server,
      workflowId: started.workflowId,
      runId: started.runId,
      url: link,
      alreadyRunning: started.joined,
    });
  }
  if (options.wait) exitCode = await waitForRuns(client, runs, say, options.okOnWarning ?? false);
  if (options.json) console.log(JSON.stringify(runs, null, 2));
  return exitCode;
}

/** Follows each run to its end (progress on stderr), records its summary or error; the exit code. */
async function waitForRuns(
  client: Client,
  runs: StartedRunReport[],
  say: (line: string) => void,
  okOnWarning: boolean,
): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.ok;
  for (const run of runs) {
    const stopWatching = watchForWorker(client, run.server, 'backup');
    try {
      const summary: BackupSummary = await watchBackup(client.workflow.getHandle(run.workflowId), run.runId);
      run.summary = summary;
      say(`${summary.status}: ${summary.host} on ${summary.server}: ${summary.message}`);
      for (const note of summary.notifications ?? [])
        if (!note.ok) console.error(`  notify ${note.target} (${note.type}) failed: ${note.error}`);
      // A run can end FAILED without the workflow failing (a hook failed; the copy may still exist).
      if (summary.status === 'FAILED') exitCode = ExitCode.backupFailed;
      // A script taking a backup before a risky change must be able to tell that the copy needs a look.
      else if (summary.status === 'WARNING' && !okOnWarning && exitCode === ExitCode.ok)
        exitCode = ExitCode.backupWarning;
    } catch (error) {
      run.error = failureMessage(error);
      console.error(`FAILED: ${run.workflowId}: ${run.error}`);
      exitCode = ExitCode.backupFailed;
    } finally {
      stopWatching();
    }
  }
  return exitCode;
}

interface StartedRun {
  workflowId: string;
  runId: string;
  joined: boolean;
  startTime?: string;
}

/** One workflow id per (host, server) with conflict policy FAIL: Temporal itself refuses a twin. */
async function startOne(client: Client, input: BackupInput): Promise<StartedRun> {
  const workflowId = backupWorkflowId(input.host, input.server);
  try {
    const handle = await client.workflow.start('backupHost', {
      taskQueue: controlTaskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: startAttributes(input.host, input.server),
      staticSummary: runSummary(input.host, input.server),
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    return { workflowId, runId: handle.firstExecutionRunId, joined: false };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw explainMissingSearchAttributes(error);
    const description = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: description.runId, joined: true, startTime: description.startTime.toISOString() };
  }
}

/** The workflow failure's own message (it names the host and the cause), not the SDK's wrapper. */
function failureMessage(error: unknown): string {
  let cause: unknown = error;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  if (error instanceof TidemarkError) return error.message;
  return cause instanceof Error ? cause.message : String(cause);
}
