// Taking over a PlanB dataset's layout: PlanB keeps a host's files in `<dataset>/data/`, Tidemark at the
// dataset's root. Adoption marks every existing snapshot as holding its files under `data/` (readers then
// look there: pool/snapshot-reader.ts) and lifts the live copy's files to the root with renames: no data is
// copied, the blocks stay shared with the snapshots, so the next backup is incremental.
import { lstat, mkdir, readdir, rename, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { filesUnderProperty } from './snapshot-reader.js';
import { listSnapshots, zfs } from './zfs.js';

/** PlanB's data subdirectory. */
export const planbDataDir = 'data';
/** Where the data directory waits while its entries move up (a host's own `/data` may be among them);
 * a rerun after an interruption finishes the move from here. */
const liftingDir = '.tidemark-lifting-planb-data';

/** Marks each snapshot of `dataset` that has no mark yet as holding its files under `data/`; returns how many. */
export async function markPlanbSnapshots(dataset: string): Promise<number> {
  const snapshots = await listSnapshots(dataset);
  for (const { name } of snapshots) await zfs(['set', `${filesUnderProperty}=${planbDataDir}`, `${dataset}@${name}`]);
  return snapshots.length;
}

/** Moves `<mountpoint>/data/*` to `<mountpoint>/`. Refuses (before moving anything) when the root holds
 * anything besides `data/` (and a move interrupted earlier), or `data` is not a directory. Idempotent. */
export async function liftPlanbData(mountpoint: string): Promise<{ moved: number }> {
  const top = await readdir(mountpoint);
  const lifting = join(mountpoint, liftingDir);
  if (top.includes(planbDataDir) && !top.includes(liftingDir)) {
    const others = top.filter((entry) => entry !== planbDataDir);
    if (others.length > 0)
      throw new Error(
        `${mountpoint} holds ${others.map((entry) => JSON.stringify(entry)).join(', ')} beside data/: not PlanB's layout; nothing was moved`,
      );
    if (!(await lstat(join(mountpoint, planbDataDir))).isDirectory())
      throw new Error(`${mountpoint}/data is not a directory: not PlanB's layout; nothing was moved`);
    await rename(join(mountpoint, planbDataDir), lifting);
  } else if (!top.includes(liftingDir)) {
    if (top.length === 0) await mkdir(lifting);
    else throw new Error(`${mountpoint} has no data/ directory: not PlanB's layout; nothing was moved`);
  }
  let moved = 0;
  for (const entry of await readdir(lifting)) {
    await rename(join(lifting, entry), join(mountpoint, entry));
    moved += 1;
  }
  await rmdir(lifting);
  return { moved };
}
