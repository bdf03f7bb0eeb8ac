// Step 4, on the backup server: freeze the copy. Idempotent: a retry finds its snapshot and stops.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { keepReasonProperty } from '../domain/keep.js';
import { snapshotNameTaken } from '../domain/names.js';
import { holdSnapshot } from './hold.js';
import { zfs } from './zfs.js';

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
 * so no prune can ever see it unheld. */
export async function takeSnapshot(dataset: string, name: string, keepReason?: string | null): Promise<TakenSnapshot> {
  const snapshot = `${dataset}@${name}`;
  const keep = keepReason ?? undefined;
  let created = true;
  const runId = Context.current().info.workflowExecution?.runId ?? 'unknown';
  try {
    // The run id and keep reason are set atomically with the snapshot; the hold follows at once.
    const properties = [`${runProperty}=${runId}`, ...(keep !== undefined ? [`${keepReasonProperty}=${keep}`] : [])];
    await zfs(['snapshot', ...properties.flatMap((property) => ['-o', property]), snapshot]);
  } catch (error) {
    if (!/dataset already exists/.test((error as Error).message)) throw error;
    // Ours from an earlier attempt of this step, or another run's from the same second.
    const owner = (await zfs(['get', '-H', '-o', 'value', runProperty, snapshot])).trim();
    if (owner !== runId) {
      throw ApplicationFailure.nonRetryable(`snapshot ${snapshot} already exists and belongs to run ${owner}`, snapshotNameTaken);
    }
    created = false;
  }
  if (keep === undefined) return { snapshot, created };
  await holdSnapshot(snapshot, keep);
  return { snapshot, created, held: true };
}
