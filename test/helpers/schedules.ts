// A scheduling sandbox for one test file: unique server names and task queue (so tests never see each
// other's schedules), inventory files, the CLI, an in-process worker, and a cleanup that deletes this
// sandbox's schedules and ends the workflows they started.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InterceptingCall } from '@grpc/grpc-js';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { createControlActivities } from '../../activities/sync-inventory.js';
import type { SyncReport } from '../../domain/schedule-spec.js';
import { parseInventory } from '../../inventory/load.js';
import type { Inventory } from '../../inventory/schema.js';
import { loadHostSources } from '../../inventory/sources.js';
import { listOwnedSchedules, reconcileSchedules } from '../../schedule/reconcile.js';
import { cliPath, testServices } from './rig.js';

const bundlePath = fileURLToPath(new URL('../../workflow-bundle.js', import.meta.url));

export interface Sandbox {
  dir: string;
  suffix: string;
  /** Task queue of this sandbox's scheduled workflows (no other test polls it). */
  taskQueue: string;
  client: Client;
  /** The gRPC method of every call `client` made, in order (e.g. ".../DescribeSchedule"). */
  rpcCalls: string[];
  temporal: string;
  server(name: string): string;
  /** Writes an inventory (temporal address filled in) and returns its path. */
  writeInventory(inventory: Record<string, unknown>, file?: string): Promise<string>;
  /** reconcile on this sandbox's task queue, as the scheduled sync would. */
  sync(
    inventory: Record<string, unknown>,
    /** client: another client of the same server (default the sandbox's own). */
    options?: { dryRun?: boolean; force?: boolean; env?: NodeJS.ProcessEnv; client?: Client },
  ): ReturnType<typeof reconcileSchedules>;
  cli(
    inventoryPath: string,
    args: string[],
    env?: NodeJS.ProcessEnv,
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** A worker on the sandbox queue running every workflow plus the control activities for `inventoryPath`. */
  startWorker(inventoryPath: string): Promise<{ stop(): Promise<void> }>;
  /** Runs the syncInventory workflow once as `workflowId` (a worker must be running) and returns its report. */
  runSyncInventory(workflowId: string): Promise<SyncReport>;
  /** Schedule ids Tidemark owns for this sandbox's servers. */
  ownedIds(): Promise<string[]>;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function createSandbox(name: string): Promise<Sandbox> {
  const services = testServices();
  const dir = await mkdtemp(`/tmp/tidemark-${name}-`);
  const suffix = dir
    .slice(-6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');
  const taskQueue = `test-${name}-${suffix}`;
  const rpcCalls: string[] = [];
  const connection = await Connection.connect({
    address: services.temporal,
    interceptors: [
      makeGrpcRetryInterceptor(defaultGrpcRetryOptions()),
      (options, nextCall) => {
        rpcCalls.push(options.method_definition.path);
        return new InterceptingCall(nextCall(options));
      },
    ],
  });
  const client = new Client({ connection });
  const prefix = `${name}-${suffix}`;
  const workers: Array<{ stop(): Promise<void> }> = [];
  const withTemporal = (inventory: Record<string, unknown>) => ({
    temporal: { address: services.temporal },
    ...inventory,
  });

  const sandbox: Sandbox = {
    dir,
    suffix,
    taskQueue,
    client,
    rpcCalls,
    temporal: services.temporal,
    server: (label) => `${label}-${prefix}`,
    async writeInventory(inventory, file = 'tidemark.yaml') {
      const path = join(dir, file);
      await writeFile(path, stringify(withTemporal(inventory)));
      return path;
    },
    async sync(inventory, options = {}) {
      const parsed: Inventory = parseInventory(stringify(withTemporal(inventory)));
      const sources = await loadHostSources(parsed, options.env ?? process.env);
      return reconcileSchedules({
        client: options.client ?? client,
        sources,
        taskQueue,
        dryRun: options.dryRun ?? false,
        force: options.force ?? false,
      });
    },
    async cli(inventoryPath, args, env = {}) {
      const result = await execa(process.execPath, [cliPath, '--config', inventoryPath, ...args], {
        reject: false,
        timeout: 120_000,
        env: { TEMPORAL_ADDRESS: services.temporal, ...env },
      });
      return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
    },
    async startWorker(inventoryPath) {
      if (!runtimeInstalled) {
        Runtime.install({ logger: new DefaultLogger('ERROR') });
        runtimeInstalled = true;
      }
      const native = await NativeConnection.connect({ address: services.temporal });
      const worker = await Worker.create({
        connection: native,
        taskQueue,
        workflowBundle: { codePath: bundlePath },
        activities: createControlActivities({ inventoryPath }),
      });
      const running = worker.run();
      let stopped = false;
      const handle = {
        async stop() {
          if (stopped) return;
          stopped = true;
          worker.shutdown();
          await running.catch(() => undefined);
          await native.close();
        },
      };
      workers.push(handle);
      return handle;
    },
    async runSyncInventory(workflowId) {
      return (await client.workflow.execute('syncInventory', { taskQueue, workflowId, args: [{}] })) as SyncReport;
    },
    async ownedIds() {
      const { owned } = await listOwnedSchedules(client);
      return owned
        .filter((schedule) => schedule.owner.kind === 'backup' && schedule.scheduleId.endsWith(prefix))
        .map((schedule) => schedule.scheduleId)
        .sort();
    },
    async close() {
      for (const worker of workers) await worker.stop();
      for await (const summary of client.schedule.list()) {
        if (summary.scheduleId.includes(prefix) || summary.scheduleId.includes(taskQueue))
          await client.schedule
            .getHandle(summary.scheduleId)
            .delete()
            .catch(() => undefined);
      }
      for await (const run of client.workflow.list({
        query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`,
      })) {
        await client.workflow
          .getHandle(run.workflowId, run.runId)
          .terminate('test cleanup')
          .catch(() => undefined);
      }
      await connection.close();
    },
  };
  return sandbox;
}

/** `count` hosts named h00, h01, … on the given servers. */
export function fleet(count: number, extra: Record<string, unknown> = {}): Record<string, Record<string, unknown>> {
  const hosts: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < count; i++)
    hosts[`h${String(i).padStart(2, '0')}`] = { address: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, ...extra };
  return hosts;
}
