// The scheduled inventory sync: one activity on the same (control) queue reconciles the Tidemark schedules
// with the inventory file and NetBox, so NetBox changes apply without anyone running `tidemark sync`.
// Input and result carry names and counts only; the NetBox token is read inside the activity.
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../activities/sync-inventory.js';
import type { SyncInventoryInput, SyncReport } from '../domain/schedule-spec.js';
import { stepPolicy } from './step-policy.js';

export async function syncInventory(input: SyncInventoryInput = {}): Promise<SyncReport> {
  const { reconcileInventory } = proxyActivities<ControlActivities>({
    // Every backup server's worker polls the control queue: any of them may run the sync.
    taskQueue: workflowInfo().taskQueue,
    ...stepPolicy.control,
  });

  const report = await reconcileInventory({ force: input.force ?? false });
  if (report.suspicious) {
    throw ApplicationFailure.create({
      message: `not applied: ${report.suspicious}; run "tidemark sync --force" if this is right`,
      type: 'SuspiciousInventory',
      nonRetryable: true,
      details: [report],
    });
  }
  return report;
}
