// The activities a backup server's worker registers, bound to that worker's inventory file and logger.
// The worker imports activities/ through this file only.
import type { BackupInput } from '../domain/backup.js';
import type { RestoreInput } from '../domain/restore.js';
import { ensureDataset } from './dataset.js';
import { runHostHooks, runServerHook } from './hooks.js';
import { probeHost } from './host-probe.js';
import { createNotifyActivities } from './notify.js';
import { planBackup } from './plan.js';
import { planAndEnsureDataset } from './plan-dataset.js';
import { logRunStart, type RunLog } from './run-log.js';
import { pruneSnapshots } from './prune.js';
import { closeRestoreSnapshot, openRestoreSnapshot, planRestore, restoreFiles } from './restore.js';
import { takeSnapshot } from './snapshot.js';
import { snapshotAndPrune } from './snapshot-and-prune.js';
import { transferFiles } from './transfer.js';
import { listSnapshots } from '../pool/zfs.js';
import type { ReplicationInput } from '../domain/replication.js';
import { sendReplica, type SendRequest } from './replicate-send.js';
import { finishReplicaTarget, prepareReplicaTarget, setAsideDivergedTarget } from './replicate-target.js';

export { createControlActivities } from './sync-inventory.js';

export interface ActivityDeps {
  /** The inventory this server reads at each backup. */
  inventoryPath: string;
  /** Where the run-start (plan step) and run-end (notify step) lines go. */
  log: RunLog;
}

/** Activities keyed by the names workflows call them by. */
export function createActivities(deps: ActivityDeps) {
  return {
    planBackup: (input: BackupInput) => {
      logRunStart(deps.log, input);
      return planBackup(deps.inventoryPath, input);
    },
    ensureDataset,
    // planBackup and ensureDataset in one round trip (runs since the 'one-step-plan' patch).
    planAndEnsureDataset: (input: BackupInput) => {
      logRunStart(deps.log, input);
      return planAndEnsureDataset(deps.inventoryPath, input);
    },
    probeHost,
    runHostHooks,
    runServerHook,
    transferFiles,
    takeSnapshot,
    listSnapshots,
    pruneSnapshots,
    // takeSnapshot, listSnapshots and pruneSnapshots in one round trip (since the 'snapshot-with-retention' patch).
    snapshotAndPrune,
    // restoreHost's steps (activities/restore.ts); restoreFiles runs on the transfer queue.
    planRestore: (input: RestoreInput) => planRestore(deps.inventoryPath, input),
    openRestoreSnapshot,
    restoreFiles,
    closeRestoreSnapshot,
    // replicateHost's steps: the target's on its server queue, the send on the source's transfer queue.
    prepareReplicaTarget: (input: ReplicationInput) => prepareReplicaTarget(deps.inventoryPath, input),
    sendReplica: (request: SendRequest) => sendReplica(deps.inventoryPath, request),
    finishReplicaTarget: (input: ReplicationInput & { after: string | null }) =>
      finishReplicaTarget(deps.inventoryPath, input),
    setAsideDiverged: (input: ReplicationInput & { common?: string }) =>
      setAsideDivergedTarget(deps.inventoryPath, input),
    // notifyStart, recordOutcome, notifyTarget (activities/notify.ts)
    ...createNotifyActivities(deps.inventoryPath, deps.log),
  };
}

export type Activities = ReturnType<typeof createActivities>;
