// The target side of replication, on the target server's own queue: what it holds of the host (listing
// with guids, resume token), and after a receive the read-only mark, the origin of each received snapshot,
// the replication base, and the target's own retention (which never destroys that base).
import { ApplicationFailure, Context } from '@temporalio/activity';
import { TidemarkError } from '../domain/errors.js';
import { setAsideName, type ReplicaSnapshot, type ReplicationInput } from '../domain/replication.js';
import { loadInventory } from '../inventory/load.js';
import { replicaRetention, resolveReplication } from '../inventory/replication.js';
import { resolveGuards, resolveHost, resolveServer } from '../inventory/resolve.js';
import {
  listReplicaSnapshots,
  markReceived,
  recordReplicaSent,
  receiveResume,
  replicaOrigin,
  setAsideDiverged,
  setReplicationBase,
} from '../pool/replication.js';
import { runPoolTool } from '../pool/zfs.js';
import { pruneAfterSnapshot, type RetentionOutcome } from './snapshot-and-prune.js';

export interface PreparedTarget {
  /** `<target dataset>/<host>`, for messages. */
  dataset: string;
  snapshots: ReplicaSnapshot[];
  /** The server the dataset says it is replicated from; undefined for a new dataset or one pulled here. */
  origin?: string;
  resumable: boolean;
  resumeToken?: string;
  /** The host's transfer settings on the target: rounds and the wait between them. */
  attempts: number;
  retryIntervalMs: number;
  heartbeatTimeoutMs: number;
}

/** A broken inventory will not fix itself by retrying: fail at once with the field-naming message. */
export async function failIfInventoryError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TidemarkError) throw ApplicationFailure.nonRetryable(error.message, error.code);
    throw error;
  }
}

/** The prepareReplicaTarget activity. */
export async function prepareReplicaTarget(inventoryPath: string, input: ReplicationInput): Promise<PreparedTarget> {
  const inventory = await failIfInventoryError(() => loadInventory(inventoryPath));
  const resolved = await failIfInventoryError(async () => resolveReplication(inventory, input));
  const host = resolveHost(inventory, input.host);
  // A first, full receive creates the dataset: its parent (this server's tree) must be there.
  const parent = resolved.targetDataset.split('/').slice(0, -1).join('/');
  if ((await runPoolTool('zfs', ['list', '-H', '-o', 'name', parent])).exitCode !== 0)
    await runPoolTool('zfs', ['create', '-p', parent]);
  const [snapshots, resume, origin] = await Promise.all([
    listReplicaSnapshots(resolved.targetDataset),
    receiveResume(resolved.targetDataset),
    replicaOrigin(resolved.targetDataset),
  ]);
  return {
    dataset: resolved.targetDataset,
    snapshots,
    ...(origin ? { origin } : {}),
    resumable: resume.supported,
    ...(resume.token ? { resumeToken: resume.token } : {}),
    attempts: host.transfer.attempts,
    retryIntervalMs: host.transfer.retryIntervalMs,
    heartbeatTimeoutMs: host.transfer.heartbeatTimeoutMs,
  };
}

export interface FinishedTarget {
  dataset: string;
  /** The snapshots this replication brought (after `after`), oldest first. */
  received: string[];
  /** The newest snapshot on the target now: the next incremental's base. */
  newest: string;
  retention?: RetentionOutcome;
}

/** The finishReplicaTarget activity: every snapshot after `after` (the target's newest before this
 * replication; null: none) came with it, also one whose round was reported interrupted after its receive. */
export async function finishReplicaTarget(
  inventoryPath: string,
  input: ReplicationInput & { after: string | null; bytesSent?: number },
): Promise<FinishedTarget> {
  const inventory = await failIfInventoryError(() => loadInventory(inventoryPath));
  const resolved = await failIfInventoryError(async () => resolveReplication(inventory, input));
  const dataset = resolved.targetDataset;
  const snapshots = await listReplicaSnapshots(dataset);
  const names = snapshots.map((snapshot) => snapshot.name);
  const received = names.slice(input.after === null ? 0 : names.indexOf(input.after) + 1);
  await markReceived(dataset, input.source, received);
  if (input.bytesSent !== undefined) await recordReplicaSent(dataset, input.bytesSent);
  const newest = snapshots.at(-1)?.name;
  if (!newest) throw new Error(`${dataset} has no snapshot after the receive`);
  await setReplicationBase(dataset, input.source, newest);
  const host = resolveHost(inventory, input.host);
  const { adopt } = resolveServer(inventory, host, input.target);
  const policy = replicaRetention(inventory, host.host, input.target);
  const anomalyCap = resolveGuards(inventory, host.host).maxAnomalySnapshots;
  const retention = await pruneAfterSnapshot(dataset, { policy, adopt, anomalyCap }, Context.current());
  return { dataset, received, newest, retention };
}

/** The setAsideDiverged activity (pool/replication.ts says how); returns the dataset the history went to. */
export async function setAsideDivergedTarget(
  inventoryPath: string,
  input: ReplicationInput & { common?: string },
): Promise<{ aside: string }> {
  const inventory = await failIfInventoryError(() => loadInventory(inventoryPath));
  const { targetDataset } = await failIfInventoryError(async () => resolveReplication(inventory, input));
  const aside = setAsideName(targetDataset, new Date());
  await setAsideDiverged(targetDataset, aside, input.source, input.common);
  return { aside };
}
