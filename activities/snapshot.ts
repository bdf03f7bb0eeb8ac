// Step 4, on the backup server: freeze the copy. Idempotent: a retry finds its snapshot and stops.
import { Context } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import { keepReasonProperty } from '../domain/keep.js';
import { describeLease, readLease, writeLease } from '../pool/lease.js';
import { zfs } from '../pool/zfs.js';
import { holdSnapshot } from '../pool/keep-hold.js';

/** User property naming the workflow run that took a snapshot. */
const runProperty = 'tidemark:run';

export interface TakenSnapshot {
  snapshot: string;
  /** False when a previous attempt of this same step had already made it. */
  created: boolean;
  /** Set when `keep` was given: the snapshot carries the keep hold (retention and zfs destroy leave it). */
  held?: boolean;
}

/** Takes `dataset@name` unless it already exists; with `keep`, holds it before returning (also on a retry),
 * so no prune can ever see it unheld. `recorded`: more `property=value` pairs (the shrink guard's baseline).
 * Only a copy that this run's own transfer finished is snapshotted (the dataset's lease says so). */
export async function takeSnapshot(
  dataset: string,
  name: string,
  keepReason?: string | null,
  recorded: string[] = [],
): Promise<TakenSnapshot> {
  const snapshot = `${dataset}@${name}`;
  const keep = keepReason ?? undefined;
  let created = true;
  const runId = Context.current().info.workflowExecution?.runId ?? 'unknown';
  const lease = await readLease(dataset);
  // No lease at all: a dataset last written before leases existed.
  if (
    lease &&
    (lease.runId !== runId || lease.state !== 'transferred') &&
    !(await ownSnapshotExists(snapshot, runId))
  ) {
    throw activityFailure(
      `not snapshotting ${dataset}: its copy was not finished by this run's transfer (lease: ${describeLease(lease)}). ` +
        'Another worker with the same server name may be writing it; each backup server needs its own name',
      'LeaseLost',
    );
  }
  try {
    // The run id, baseline and keep reason are set atomically with the snapshot; the hold follows at once.
    const properties = [
      `${runProperty}=${runId}`,
      ...recorded,
      ...(keep !== undefined ? [`${keepReasonProperty}=${keep}`] : []),
    ];
    await zfs(['snapshot', ...properties.flatMap((property) => ['-o', property]), snapshot]);
  } catch (error) {
    if (!/dataset already exists/.test((error as Error).message)) throw error;
    // Ours from an earlier attempt of this step, or another run's from the same second.
    const owner = (await zfs(['get', '-H', '-o', 'value', runProperty, snapshot])).trim();
    if (owner !== runId) {
      throw activityFailure(`snapshot ${snapshot} already exists and belongs to run ${owner}`, 'SnapshotNameTaken');
    }
    created = false;
  }
  // The copy is frozen: the next run may write the dataset now.
  if (lease?.runId === runId && lease.state === 'transferred')
    await writeLease(dataset, { ...lease, state: 'snapshotted' });
  if (keep === undefined) return { snapshot, created };
  await holdSnapshot(snapshot, keep);
  return { snapshot, created, held: true };
}

/** A retry of this step after its snapshot was made (the lease may have moved on since). */
async function ownSnapshotExists(snapshot: string, runId: string): Promise<boolean> {
  const owner = await zfs(['get', '-H', '-o', 'value', runProperty, snapshot]).catch(() => '');
  return owner.trim() === runId;
}
