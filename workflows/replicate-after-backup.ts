// After a complete snapshot on a source server: start replicateHost towards each server that takes this
// host's copy from it (plan.replicaTargets). Each replication is its own workflow (abandoned by this run,
// so a slow off-site link never holds the backup open); one already running for a (host, target) sends
// up to the newest snapshot when it lists the source, so a start refused as a duplicate loses nothing
// that the next backup's start will not pick up.
import { ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import type { BackupPlan, BackupSummary } from '../domain/backup.js';
import { controlTaskQueue, type SnapshotLabel } from '../domain/names.js';
import { replicationWorkflowId } from '../domain/replication.js';
import { replicateHost } from './replicate-host.js';
import { patches } from './patches.js';

export async function startReplicas(plan: BackupPlan, label: SnapshotLabel, summary: BackupSummary): Promise<void> {
  const targets = plan.replicaTargets ?? [];
  // Only plans with targets reach the patch check, so histories of runs without replication replay unchanged.
  if (targets.length === 0 || label !== 'complete' || summary.status === 'FAILED') return;
  if (!patched(patches.replicateAfterBackup.id)) return;
  for (const target of targets) {
    try {
      await startChild(replicateHost, {
        workflowId: replicationWorkflowId(plan.host, target),
        taskQueue: controlTaskQueue,
        args: [{ host: plan.host, source: plan.server, target }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (error) {
      // A replication of this (host, target) is running: it carries on (see above).
      if ((error as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw error;
    }
  }
}
