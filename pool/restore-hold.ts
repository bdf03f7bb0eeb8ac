// The hold a restore keeps on the snapshot it reads, so retention (and zfs itself) cannot destroy it
// underneath. One tag per restore run, so overlapping restores of one snapshot do not release each
// other's hold. zfs-fuse cannot list holds (`zfs holds` is broken there), so each hold is also recorded as
// a user property on the snapshot: a later run finds the holds of dead runs with one `zfs get`.
import { zfs } from './zfs.js';

const tagPrefix = 'tidemark-restore-';
const propertyPrefix = 'tidemark:restore-';

/** Holds `snapshot` for the run; idempotent (a retried attempt finds its hold in place). */
export async function holdForRestore(snapshot: string, workflowId: string, runId: string): Promise<void> {
  // The record first: a hold without its record could never be found and released by a later run.
  await zfs(['set', `${propertyPrefix}${runId}=${workflowId}`, snapshot]);
  try {
    await zfs(['hold', `${tagPrefix}${runId}`, snapshot]);
  } catch (error) {
    if (!/tag already exists/.test((error as Error).message)) throw error;
  }
}

/** Releases the run's hold and its record; idempotent, also when the snapshot is gone. */
export async function releaseRestoreHold(snapshot: string, runId: string): Promise<void> {
  try {
    await zfs(['release', `${tagPrefix}${runId}`, snapshot]);
  } catch (error) {
    const message = (error as Error).message;
    if (/does not exist/.test(message)) return;
    if (!/no such tag/.test(message)) throw error;
  }
  await zfs(['inherit', `${propertyPrefix}${runId}`, snapshot]);
}

export interface RestoreHold {
  /** `dataset@name` */
  snapshot: string;
  runId: string;
  /** The workflow id recorded with it. */
  workflowId: string;
}

/** Every restore hold recorded on the snapshots of `dataset`. */
export async function restoreHolds(dataset: string): Promise<RestoreHold[]> {
  const output = await zfs(['get', '-H', '-r', '-d', '1', '-s', 'local', '-o', 'name,property,value', 'all', dataset]);
  const holds: RestoreHold[] = [];
  for (const line of output.split('\n')) {
    const [name = '', property = '', value = ''] = line.split('\t');
    if (!name.startsWith(`${dataset}@`) || !property.startsWith(propertyPrefix)) continue;
    holds.push({ snapshot: name, runId: property.slice(propertyPrefix.length), workflowId: value });
  }
  return holds;
}
