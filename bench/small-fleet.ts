// The fleet comparison: a few small hosts, where what each run costs besides rsync decides the wall time.
// For a first full backup and an unchanged re-run, three ways to back up the same fleet:
//   bare loop   SOWN's rsync invocation host after host (a seed's cron job: no orchestration at all);
//   engine      every backup started at once through the Temporal client, the server's concurrency slots;
//   CLI --wait  one `tidemark start-backup --wait` process per host, all at once (an operator's script),
//               so the CLI processes' own start-up and watching compete with the backups they watch.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import type { BackupSummary } from '../domain/backup.js';
import { backupWorkflowId } from '../domain/names.js';
import { runSown, type DirectContext } from './baselines.js';
import { median, medianSteps } from './report.js';
import type { Fleet, FleetHost } from './fleet.js';
import { cliEnvironment, cliPath, runFleet, stepTimes } from './tidemark.js';

export const smallFleetShape = { files: 200, mebibytes: 4, largeFiles: 1 };
export const smallFleetWorkloads = ['full', 'unchanged'] as const;

export interface SmallFleetPhase {
  workload: (typeof smallFleetWorkloads)[number];
  bareLoopMs: number;
  engineMs: number;
  cliMs: number;
  /** Median time of each step of the engine-started backups (a transfer's includes its wait for a slot). */
  engineStepsMs: Record<string, number>;
  /** Median of the backups' own durations (the workflow's durationMs): does watching slow them? */
  engineRunMedianMs: number;
  cliRunMedianMs: number;
}

export interface SmallFleetResult {
  hosts: number;
  concurrency: number;
  shape: typeof smallFleetShape;
  phases: SmallFleetPhase[];
}

/** Inventory names of a small-fleet host: one dataset per way of starting it, the same source. */
export function smallFleetNames(host: FleetHost): { engine: string; cli: string } {
  return { engine: `f${host.index}`, cli: `w${host.index}` };
}

export interface SmallFleetContext {
  fleet: Fleet;
  direct: DirectContext;
  client: Client;
  server: string;
  inventoryPath: string;
  temporalAddress: string;
  settle(): Promise<void>;
  log(line: string): void;
}

export async function runSmallFleet(context: SmallFleetContext, concurrency: number): Promise<SmallFleetResult> {
  const { fleet } = context;
  const phases: SmallFleetPhase[] = [];
  for (const workload of smallFleetWorkloads) {
    await context.settle();
    let started = performance.now();
    for (const host of fleet.hosts) await runSown(context.direct, host, `small-${workload}`);
    const bareLoopMs = performance.now() - started;

    await context.settle();
    const engine = await runFleet(
      context.client,
      context.server,
      fleet.hosts.map((host) => smallFleetNames(host).engine),
    );

    await context.settle();
    started = performance.now();
    await Promise.all(fleet.hosts.map((host) => startBackupAndWait(context, smallFleetNames(host).cli)));
    const cliMs = performance.now() - started;
    const cliRuns = await Promise.all(
      fleet.hosts.map(async (host) => {
        const handle = context.client.workflow.getHandle(backupWorkflowId(smallFleetNames(host).cli, context.server));
        return ((await handle.result()) as BackupSummary).durationMs;
      }),
    );
    const engineRunMedianMs = median(engine.hosts.map((host) => host.workflowMs ?? NaN));
    const engineStepsMs = medianSteps(
      await Promise.all(
        engine.hosts.map(async (run) => ({
          ...run,
          steps: await stepTimes(context.client.workflow.getHandle(backupWorkflowId(run.host, context.server))),
        })),
      ),
    );
    const cliRunMedianMs = median(cliRuns);

    phases.push({
      workload,
      bareLoopMs,
      engineMs: engine.wallMs,
      cliMs,
      engineStepsMs,
      engineRunMedianMs,
      cliRunMedianMs,
    });
    context.log(
      `small fleet, ${workload}: bare loop ${(bareLoopMs / 1000).toFixed(2)} s, engine ${(engine.wallMs / 1000).toFixed(2)} s, ` +
        `${fleet.hosts.length} x start-backup --wait ${(cliMs / 1000).toFixed(2)} s; backups' median ` +
        `${(engineRunMedianMs / 1000).toFixed(2)} s started by the engine, ${(cliRunMedianMs / 1000).toFixed(2)} s watched by the CLIs; ` +
        `engine steps (median ms): ${Object.entries(engineStepsMs)
          .map(([step, ms]) => `${step} ${Math.round(ms)}`)
          .join(', ')}`,
    );
  }
  return { hosts: fleet.hosts.length, concurrency, shape: smallFleetShape, phases };
}

/** `tidemark start-backup --host H --server S --wait` as a process; rejects unless it exits 0. */
function startBackupAndWait(context: SmallFleetContext, host: string): Promise<void> {
  const env = cliEnvironment(context.temporalAddress);
  const child = spawn(
    process.execPath,
    [cliPath, '--config', context.inventoryPath, 'start-backup', '--host', host, '--server', context.server, '--wait'],
    { stdio: ['ignore', 'ignore', 'pipe'], env },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`start-backup --host ${host} exited ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}
