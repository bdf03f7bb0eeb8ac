// Checks shared by the fault suite: the newest good snapshot still holds what it held, the copy is not emptied.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupSummary } from '../../domain/backup.js';
import { backupWorkflowId, parseSnapshotName } from '../../domain/names.js';
import { testServices, withSnapshotClone, withSnapshotCopy, type Rig } from './rig.js';
import { describeTree } from './tree.js';

/** Regular files under `dir` (0 when it does not exist). */
export function countFiles(dir: string): number {
  let count = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) count += countFiles(join(dir, entry.name));
    else if (entry.isFile() || statSync(join(dir, entry.name), { throwIfNoEntry: false })) count += 1;
  }
  return count;
}

/** The newest snapshot of a given label. */
export async function newestSnapshot(rig: Rig, label: 'complete' | 'partial' | 'suspect'): Promise<string | undefined> {
  return (await rig.snapshots()).filter((name) => parseSnapshotName(name)?.label === label).at(-1);
}

/** Files lost from `snapshot` against the tree it held when taken: asserts none, and that it still exists. */
export async function assertSnapshotIntact(
  rig: Rig,
  snapshot: string,
  tree: Awaited<ReturnType<typeof describeTree>>,
  options: { poolIsFull?: boolean } = {},
): Promise<void> {
  assert.ok((await rig.snapshots()).includes(snapshot), `${snapshot} still exists`);
  const compare = async (path: string) => {
    const now = await describeTree(join(path, rig.source));
    const lost = Object.keys(tree.entries).filter((name) => !(name in now.entries));
    assert.deepEqual(lost, [], `files lost from ${snapshot}`);
  };
  // On a full pool a clone fails "out of space": read a copy received into the suite's own pool instead.
  if (options.poolIsFull) await withSnapshotCopy(rig.dataset, snapshot, testServices().pool, compare);
  else await withSnapshotClone(rig.dataset, snapshot, compare);
}

/** The result of the rig's last backup run. */
export async function lastSummary(rig: Rig): Promise<BackupSummary> {
  return (await rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server)).result()) as BackupSummary;
}

/** A snapshot listing without "used": the unique bytes of a snapshot grow whenever the live copy's blocks
 * change and ZFS syncs, which says nothing about the snapshot itself. */
export function snapshotIdentity(
  snapshots: Array<{ name: string; createdAt: number; holds: number }>,
): Array<{ name: string; createdAt: number; holds: number }> {
  return snapshots.map(({ name, createdAt, holds }) => ({ name, createdAt, holds }));
}
