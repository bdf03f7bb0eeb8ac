// Step 4, on the backup server: freeze the copy. Idempotent: a retry finds its snapshot and stops.
import { zfs } from './zfs.js';

export interface TakenSnapshot {
  snapshot: string;
  /** False when a previous attempt of this same step had already made it. */
  created: boolean;
}

/** Takes `dataset@name` unless it already exists. */
export async function takeSnapshot(dataset: string, name: string): Promise<TakenSnapshot> {
  const snapshot = `${dataset}@${name}`;
  try {
    await zfs(['snapshot', snapshot]);
    return { snapshot, created: true };
  } catch (error) {
    // The name is fixed by the workflow, so an existing snapshot is this step's own earlier attempt.
    if (/dataset already exists/.test((error as Error).message)) return { snapshot, created: false };
    throw error;
  }
}
