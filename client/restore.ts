// `tidemark restore --host H ... (--to DIR | --to-host HOST [--target-dir DIR])`: starts a restoreHost
// workflow on the server that owns the host's pool and, with --wait (implied by --dry-run), follows it.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { controlTaskQueue, runUrl } from '../domain/names.js';
import {
  restoreInputProblems,
  restoreWorkflowId,
  type RestoreInput,
  type RestoreProgress,
  type RestoreSummary,
} from '../domain/restore.js';
import type { TransferProgress } from '../domain/backup.js';
import { resolveHost, resolveServer, resolveTemporal } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';
import { restoreProgressQuery } from '../workflows/restore-host.js';
import { connectClient } from '../inventory/temporal-connection.js';

export interface RestoreOptions {
  host: string;
  server?: string;
  snapshot?: string;
  at?: string;
  path?: string[];
  to?: string;
  toHost?: string;
  targetDir?: string;
  dryRun?: boolean;
  wait?: boolean;
  yesOverwriteLiveSystem?: boolean;
  bwlimit?: string;
  specialFiles?: boolean;
  json?: boolean;
}

/** The workflow input from the command line; throws USAGE naming the option and the fix. */
export function restoreInput(inventory: Inventory, options: RestoreOptions): RestoreInput {
  const host = resolveHost(inventory, options.host);
  const server = options.server ?? (host.servers.length === 1 ? host.servers[0] : undefined);
  if (!server)
    throw new TidemarkError(
      'USAGE',
      `--server: ${host.host} is backed up on ${host.servers.join(', ')}; name the one to restore from`,
    );
  resolveServer(inventory, host, server);
  if ((options.to === undefined) === (options.toHost === undefined)) {
    throw new TidemarkError('USAGE', '--to DIR (on the backup server) or --to-host HOST (over ssh): give exactly one');
  }
  if (options.targetDir !== undefined && options.toHost === undefined)
    throw new TidemarkError('USAGE', '--target-dir goes with --to-host; with --to the directory is --to itself');
  if (options.toHost !== undefined) resolveHost(inventory, options.toHost);
  if (options.bwlimit !== undefined && !/^\d+(\.\d+)?[KMGkmg]?$/.test(options.bwlimit))
    throw new TidemarkError('USAGE', `--bwlimit: "${options.bwlimit}" is not a rate; give KiB/s, e.g. 500 or 10M`);
  const input: RestoreInput = {
    host: host.host,
    server,
    ...(options.snapshot !== undefined ? { snapshot: options.snapshot } : {}),
    ...(options.at !== undefined ? { at: options.at } : {}),
    paths: options.path ?? [],
    to:
      options.to !== undefined
        ? { kind: 'local', dir: options.to }
        : {
            kind: 'host',
            host: options.toHost!,
            ...(options.targetDir !== undefined ? { dir: options.targetDir } : {}),
          },
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.yesOverwriteLiveSystem ? { overwriteLiveSystem: true } : {}),
    ...(options.bwlimit !== undefined ? { bandwidthLimit: options.bwlimit } : {}),
    ...(options.specialFiles ? { specialFiles: true } : {}),
  };
  const problems = restoreInputProblems(input);
  if (problems.length > 0) throw new TidemarkError('USAGE', problems.join('; '));
  return input;
}

/** Starts the restore; with --wait returns 0 when it finished, 1 when it failed, 2 when the request could
 * not work (no such snapshot or path). */
export async function restore(inventory: Inventory, options: RestoreOptions): Promise<ExitCode> {
  const input = restoreInput(inventory, options);
  const temporal = resolveTemporal(inventory);
  const client = await connectClient(temporal);
  const workflowId = restoreWorkflowId(input.host, input.server, new Date(), randomBytes(3).toString('hex'));
  const handle = await client.workflow.start('restoreHost', { taskQueue: controlTaskQueue, workflowId, args: [input] });
  console.error(
    `started ${workflowId} run ${handle.firstExecutionRunId}\n  ${runUrl(temporal, workflowId, handle.firstExecutionRunId)}`,
  );
  if (!options.wait && !options.dryRun) return ExitCode.ok;
  try {
    const summary = await followRestore(client, workflowId, handle.firstExecutionRunId);
    if (options.json) {
      console.log(JSON.stringify(summary, null, 2));
    } else {
      for (const line of summary.changes ?? []) console.log(line);
      if (summary.changesOmitted) console.log(`… ${summary.changesOmitted} more changes not shown`);
      console.log(`SUCCESS: ${summary.message}`);
    }
    return ExitCode.ok;
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    console.error(`FAILED: ${workflowId}: ${message}`);
    return cause instanceof ApplicationFailure && cause.type === 'USAGE' ? ExitCode.usage : ExitCode.backupFailed;
  }
}

/** Waits for the result, writing the phase and copy progress to stderr when they change. */
async function followRestore(client: Client, workflowId: string, runId: string): Promise<RestoreSummary> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const result = handle.result() as Promise<RestoreSummary>;
  let done = false;
  result.then(
    () => (done = true),
    () => (done = true),
  );
  let last = '';
  while (!done) {
    const line = await describe(handle).catch(() => last);
    // A line when the phase or the figures change, not every poll.
    if (line !== last) process.stderr.write(`${line}\n`);
    last = line;
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000))]);
  }
  return result;
}

async function describe(handle: ReturnType<Client['workflow']['getHandle']>): Promise<string> {
  const [progress, description] = await Promise.all([handle.query(restoreProgressQuery), handle.describe()]);
  const parts = [`${handle.workflowId}: ${(progress as RestoreProgress).phase}`];
  if ((progress as RestoreProgress).snapshot) parts.push((progress as RestoreProgress).snapshot!);
  for (const activity of description.raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    const copy = payload ? defaultPayloadConverter.fromPayload<TransferProgress>(payload) : undefined;
    if (copy && copy.bytes > 0) parts.push(`${copy.percent}% ${copy.bytes} bytes, ${copy.rate}`);
  }
  return parts.join(' · ');
}
