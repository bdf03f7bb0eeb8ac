// The activity behind the scheduled syncInventory workflow. It runs on the control queue, which every
// backup server's worker polls (registered there by worker/run-worker.ts), reads that worker's inventory
// file and the NetBox token at run time, and applies the same reconcile as `tidemark sync`.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import { TidemarkError } from '../domain/errors.js';
import type { SyncInventoryInput, SyncReport } from '../domain/schedule-spec.js';
import { loadInventory } from '../inventory/load.js';
import { NetboxError } from '../inventory/netbox.js';
import { resolveTemporal } from '../temporal/settings.js';
import { loadHostSources } from '../inventory/sources.js';
import { reconcileSchedules } from '../schedule/reconcile.js';
import { connectClient } from '../temporal/connection.js';

export interface ControlActivityDeps {
  inventoryPath: string;
}

export function createControlActivities(deps: ControlActivityDeps) {
  return {
    async reconcileInventory(input: SyncInventoryInput): Promise<SyncReport> {
      const taskQueue = Context.current().info.taskQueue;
      try {
        const inventory = await loadInventory(deps.inventoryPath);
        const sources = await loadHostSources(inventory);
        const temporal = resolveTemporal(inventory);
        const client = await connectClient(temporal);
        try {
          return await reconcileSchedules({ client, sources, taskQueue, force: input.force ?? false });
        } finally {
          await client.connection.close();
        }
      } catch (error) {
        // Temporal out of reach is passing: retried like any other failure. A bad inventory is not.
        if (error instanceof TidemarkError && error.code !== 'TEMPORAL_UNAVAILABLE')
          throw ApplicationFailure.nonRetryable(error.message, error.code);
        // NetBox down or refusing: retried a few times; existing schedules stay as they are meanwhile.
        if (error instanceof NetboxError)
          throw activityFailure(`${error.message}; schedules left unchanged`, 'NetboxUnavailable');
        throw error;
      }
    },
  };
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
