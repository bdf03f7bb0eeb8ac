// The benchmark's Tidemark runs: a real worker process (`tidemark worker`) and backupHost workflows
// started through the Temporal client exactly as client/start-backup.ts does.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { BackupInput, BackupSummary } from '../domain/backup.js';
import { backupWorkflowId, controlTaskQueue } from '../domain/names.js';
import { waitFor } from '../devenv/process.js';
import type { HostRun } from './baselines.js';

export const cliPath = fileURLToPath(new URL('../client/cli.js', import.meta.url));

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The environment of a CLI process the bench starts: this Temporal server, its default namespace. */
export function cliEnvironment(temporalAddress: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: temporalAddress };
  delete env.TEMPORAL_NAMESPACE;
  return env;
}

/** Starts `node dist/client/cli.js --config F worker --server S` and waits until it polls. */
export async function startWorker(
  inventoryPath: string,
  server: string,
  temporalAddress: string,
): Promise<WorkerProcess> {
  const env = cliEnvironment(temporalAddress);
  const child = spawn(process.execPath, [cliPath, '--config', inventoryPath, 'worker', '--server', server], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stderr.write(`[worker ${server}] ${chunk.toString()}`);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    `worker for ${server}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${output}`);
      return output.includes('polling');
    },
    30_000,
  );
  return {
    pid: child.pid!,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function startBackup(client: Client, input: BackupInput): Promise<WorkflowHandle> {
  return client.workflow.start('backupHost', {
    taskQueue: controlTaskQueue,
    workflowId: backupWorkflowId(input.host, input.server),
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
}

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;
const timestampMs = (ts: Timestamp) => (ts ? Number(String(ts.seconds ?? 0)) * 1000 + (ts.nanos ?? 0) / 1e6 : 0);

/** Wall-clock times (ms since the epoch) of a run's first and last history events: with the times a CLI
 * process started and exited, they split its wall time into before, during and after the workflow. */
export async function runSpan(handle: WorkflowHandle): Promise<{ firstEventMs: number; lastEventMs: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  return {
    firstEventMs: timestampMs(events[0]?.eventTime as Timestamp),
    lastEventMs: timestampMs(events[events.length - 1]?.eventTime as Timestamp),
  };
}

/** Per step (activity type) scheduled → completed, and first → last event of the run, from the history. */
export async function stepTimes(handle: WorkflowHandle): Promise<Record<string, number>> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Map<string, { name: string; at: number }>();
  const startedAt = new Map<string, number>();
  const steps: Record<string, number> = { dispatch: 0 };
  for (const event of events) {
    const id = String(event.eventId ?? '');
    const at = timestampMs(event.eventTime as Timestamp);
    const attributes = event.activityTaskScheduledEventAttributes;
    if (attributes) scheduled.set(id, { name: attributes.activityType?.name ?? '?', at });
    const started = event.activityTaskStartedEventAttributes;
    if (started) startedAt.set(String(started.scheduledEventId ?? ''), at);
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const scheduledId = String(completed.scheduledEventId ?? '');
      const from = scheduled.get(scheduledId);
      if (from) steps[from.name] = (steps[from.name] ?? 0) + (at - from.at);
      const start = startedAt.get(scheduledId);
      if (from && start !== undefined) steps.dispatch! += start - from.at;
    }
  }
  const first = events[0];
  const last = events[events.length - 1];
  if (first && last)
    steps.workflow = timestampMs(last.eventTime as Timestamp) - timestampMs(first.eventTime as Timestamp);
  const activities = Object.entries(steps)
    .filter(([name]) => name !== 'dispatch' && name !== 'workflow')
    .reduce((sum, [, ms]) => sum + ms, 0);
  steps.betweenSteps = (steps.workflow ?? 0) - activities;
  // Grouped as the report shows them, so runs from before and after the steps were joined compare.
  const sum = (...names: string[]) => names.reduce((total, name) => total + (steps[name] ?? 0), 0);
  steps.planDataset = sum('planBackup', 'ensureDataset', 'planAndEnsureDataset');
  steps.snapshotRetention = sum('takeSnapshot', 'listSnapshots', 'pruneSnapshots', 'snapshotAndPrune');
  steps.notify = (steps.notifyStart ?? 0) + (steps.recordOutcome ?? 0) + (steps.notifyTarget ?? 0);
  return steps;
}

function fromSummary(host: string, ms: number, summary: BackupSummary): HostRun {
  return {
    host,
    ms,
    bytesReceived: summary.bytesReceived,
    bytesTransferred: summary.bytesTransferred,
    filesTransferred: summary.filesTransferred,
    workflowMs: summary.durationMs,
  };
}

/** One backup, timed from the start request to its result (what an operator waits for), with step times. */
export async function runOne(client: Client, server: string, host: string): Promise<HostRun> {
  const started = performance.now();
  const handle = await startBackup(client, { host, server });
  const summary = (await handle.result()) as BackupSummary;
  const run = fromSummary(host, performance.now() - started, summary);
  run.steps = await stepTimes(handle);
  return run;
}

/** One backup at a time. */
export async function runSequential(client: Client, server: string, hosts: string[]): Promise<HostRun[]> {
  const runs: HostRun[] = [];
  for (const host of hosts) runs.push(await runOne(client, server, host));
  return runs;
}

/** All backups started at once; each host's time runs from its start request to its result. */
export async function runFleet(
  client: Client,
  server: string,
  hosts: string[],
): Promise<{ wallMs: number; hosts: HostRun[] }> {
  const started = performance.now();
  const pending: Promise<HostRun>[] = [];
  for (const host of hosts) {
    const requested = performance.now();
    const handle = await startBackup(client, { host, server });
    pending.push(
      handle.result().then((summary: BackupSummary) => fromSummary(host, performance.now() - requested, summary)),
    );
  }
  const runs = await Promise.all(pending);
  return { wallMs: performance.now() - started, hosts: runs };
}
