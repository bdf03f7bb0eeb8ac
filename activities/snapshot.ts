// Step 4, on the backup server: freeze the copy. Idempotent: a retry finds its snapshot and stops.
import { keepReasonProperty } from '../domain/keep.js';
import { holdSnapshot } from './hold.js';
import { zfs } from './zfs.js';

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
  try {
    // The reason is set atomically with the snapshot; the hold follows at once.
    await zfs(['snapshot', ...(keep !== undefined ? ['-o', `${keepReasonProperty}=${keep}`] : []), snapshot]);
  } catch (error) {
    // The name is fixed by the workflow, so an existing snapshot is this step's own earlier attempt.
    if (!/dataset already exists/.test((error as Error).message)) throw error;
    created = false;
  }
  if (keep === undefined) return { snapshot, created };
  await holdSnapshot(snapshot, keep);
  return { snapshot, created, held: true };
}
