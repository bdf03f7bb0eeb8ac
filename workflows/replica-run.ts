// The summary of a scheduled run on a replication target whose copy is fresh: nothing is pulled, and
// monitoring hears where the copy comes from and how old its newest snapshot is.
import type { BackupPlan, BackupSummary } from '../domain/backup.js';
import { formatDuration } from '../domain/duration.js';
import type { ReplicaRun } from '../domain/replication.js';

export function replicatedSummary(
  plan: BackupPlan,
  run: Extract<ReplicaRun, { mode: 'replicated' }>,
  startedMs: number,
): BackupSummary {
  return {
    host: plan.host,
    server: plan.server,
    status: 'SUCCESS',
    dataset: plan.dataset,
    snapshot: run.newest,
    filesTransferred: 0,
    bytesTransferred: 0,
    bytesReceived: 0,
    durationMs: Date.now() - startedMs,
    message: `replicated from ${run.source}, not pulled: newest complete snapshot ${run.newest} is ${formatDuration(run.ageMs ?? 0)} old`,
  };
}
