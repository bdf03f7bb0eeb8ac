// The first two steps in one round trip: plan the run from this server's inventory, then ensure its dataset
// (and open the run's ssh connection meanwhile).
// A dataset failure carries the plan in its details (planOfFailure reads it back), so the workflow still
// knows the dataset and runs the backup server's after-hook for the failed run, as it did with two steps.
import { ApplicationFailure } from '@temporalio/activity';
import type { BackupInput, BackupPlan } from '../domain/backup.js';
import { datasetOptions, ensureDataset, type EnsuredDataset } from './dataset.js';
import { planBackupWithWarnings } from './plan.js';
import { openSshMaster } from './ssh-master.js';
import { hostKeyUnderName } from './host-key-name.js';
import type { ReplicaRun } from '../domain/replication.js';
import { decideReplicaRun, openForFailover } from './replica-run.js';

export interface PlannedDataset {
  plan: BackupPlan;
  ensured: EnsuredDataset;
  /** On a replication target: whether this run pulls (failover) or leaves the copy to replication. */
  replicaRun?: ReplicaRun;
}

/** `say`: an INFO line for the worker's log (the host's key copied under its name in known_hosts). */
export async function planAndEnsureDataset(
  inventoryPath: string,
  input: BackupInput,
  say: (message: string) => void = () => {},
): Promise<PlannedDataset> {
  const { plan, warnings } = await planBackupWithWarnings(inventoryPath, input);
  const replicaRun = await decideReplicaRun(plan);
  // The copy comes by replication: the dataset is not touched and nothing is pulled.
  if (replicaRun?.mode === 'replicated') return { plan, ensured: { mountpoint: '', created: false }, replicaRun };
  try {
    if (replicaRun) await openForFailover(plan.dataset, plan.host);
    // Before the run's first ssh to the host: known_hosts lists it under its name (copied from its address).
    await hostKeyUnderName(plan, say);
    // The run's ssh login (~0.3 s) while zfs works: the probe then rides the open connection.
    const [ensured] = await Promise.all([
      ensureDataset(plan.dataset, plan.host, datasetOptions(plan)),
      openSshMaster(plan),
    ]);
    // The workflow ends the run WARNING on the dataset step's warnings: the inventory's ride along.
    const withWarnings =
      warnings.length === 0 ? ensured : { ...ensured, warnings: [...warnings, ...(ensured.warnings ?? [])] };
    return { plan, ensured: withWarnings, ...(replicaRun ? { replicaRun } : {}) };
  } catch (error) {
    // The same type, message and retry rule as ensureDataset's own failure; only the details change.
    const failure = error instanceof ApplicationFailure ? error : undefined;
    throw ApplicationFailure.create({
      message: (error as Error).message,
      type: failure?.type ?? (error as Error).name,
      nonRetryable: failure?.nonRetryable ?? false,
      details: [{ plan }],
    });
  }
}
