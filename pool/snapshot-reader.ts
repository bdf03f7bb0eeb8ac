// Reading a snapshot's files without any chance of changing them: OpenZFS shows every snapshot under
// `<mountpoint>/.zfs/snapshot/<name>`; zfs-fuse has no such directory, so there a temporary clone
// stands in (writable only because zfs-fuse cannot list xattrs on a read-only dataset; the snapshot itself
// never changes). Every clone carries a user property naming who made it, so a later run can tell the clones
// of dead readers (and only those) and destroy them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { currentBootId } from './lease.js';
import { datasetInfo, zfs } from './zfs.js';

/** User property set on a snapshot whose files lie in a subdirectory (an adopted PlanB snapshot: `data`); the
 * snapshots Tidemark takes hold the files at the dataset's root and have none. */
export const filesUnderProperty = 'tidemark:files-under';

/** User property on a reader's clone: who made it ("run <workflowId> <runId>" or "pid <boot> <pid>"). */
export const readerProperty = 'tidemark:reader';

export interface SnapshotView {
  /** Directory holding the snapshot's files (below the snapshot's own root when it sets filesUnderProperty). */
  root: string;
  /** The clone made for it, when there was no `.zfs` directory. */
  clone?: string;
}

/**
 * A read-only view of `dataset@snapshot`: its `.zfs/snapshot` directory when there is one, else a clone
 * named `clone` (marked with `owner`). Throws when the snapshot does not exist.
 */
export async function openSnapshot(
  dataset: string,
  snapshot: string,
  clone: string,
  owner: string,
): Promise<SnapshotView> {
  const under = await filesUnder(dataset, snapshot);
  const info = await datasetInfo(dataset);
  if (info?.mounted) {
    const visible = join(info.mountpoint, '.zfs', 'snapshot', snapshot);
    if (existsSync(visible)) return { root: join(visible, under) };
  }
  // An earlier attempt of the same reader may have made it already.
  if (!(await datasetInfo(clone))) {
    // Hardened like the copies: a host's setuid binary or device node is never live on this server.
    const hardening = ['setuid=off', 'devices=off', 'exec=off'].flatMap((setting) => ['-o', setting]);
    await zfs(['clone', '-o', `${readerProperty}=${owner}`, ...hardening, `${dataset}@${snapshot}`, clone]);
  }
  // Not readonly=on: on a read-only zfs-fuse dataset listxattr fails (EOPNOTSUPP) and rsync then silently
  // drops every xattr and ACL. The clone is this reader's private copy-on-write dataset: nothing written to
  // it can reach the snapshot, and it is destroyed after the read.
  const cloned = await datasetInfo(clone);
  if (!cloned?.mounted) throw new Error(`the clone ${clone} of ${dataset}@${snapshot} is not mounted`);
  return { root: join(cloned.mountpoint, under), clone };
}

/** The snapshot's files subdirectory ('' for the root); throws when the snapshot does not exist. Only a value
 * set on the snapshot itself counts, and only a plain directory name. */
export async function filesUnder(dataset: string, snapshot: string): Promise<string> {
  const [value = '-', source = ''] = (
    await zfs(['get', '-H', '-o', 'value,source', filesUnderProperty, `${dataset}@${snapshot}`])
  )
    .trim()
    .split('\t');
  if (source !== 'local' || value === '-') return '';
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(value))
    throw new Error(`${dataset}@${snapshot}: ${filesUnderProperty}=${JSON.stringify(value)} is not a directory name`);
  return value;
}

/** Destroys a reader's clone; zfs-fuse keeps a just-read dataset busy for a moment, so it retries briefly.
 * Refuses anything not marked as a reader's clone. Idempotent. */
export async function closeClone(clone: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const owner = await cloneOwner(clone);
    if (owner === undefined) return;
    if (owner === '') throw new Error(`${clone} is not a reader's clone (no ${readerProperty}): left in place`);
    try {
      await zfs(['destroy', clone]);
      return;
    } catch (error) {
      if (/does not exist/.test((error as Error).message)) return;
      if (attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** The clone's owner mark; '' when it has none; undefined when it does not exist. */
async function cloneOwner(clone: string): Promise<string | undefined> {
  try {
    const [value = '-', source = ''] = (await zfs(['get', '-H', '-o', 'value,source', readerProperty, clone]))
      .trim()
      .split('\t');
    return source === 'local' && value !== '-' ? value : '';
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

export interface ReaderClone {
  name: string;
  owner: string;
}

/** Reader clones of `dataset` (siblings named `<host>-<kind>-…` that carry the owner mark). */
export async function readerClones(dataset: string, kind: 'restore' | 'browse'): Promise<ReaderClone[]> {
  const parent = dataset.slice(0, dataset.lastIndexOf('/'));
  if (!parent) return [];
  const output = await zfs(['list', '-H', '-o', `name,${readerProperty}`, '-t', 'filesystem', '-r', '-d', '1', parent]);
  const prefix = `${dataset}-${kind}-`;
  return output
    .split('\n')
    .map((line) => line.split('\t'))
    .filter(([name = '', owner = '-']) => name.startsWith(prefix) && owner !== '-' && owner !== '')
    .map(([name = '', owner = '']) => ({ name, owner }));
}

/** The owner mark of a clone made by this process: its boot and pid (the CLI has no workflow run). */
async function processOwner(): Promise<string> {
  return `pid ${await currentBootId()} ${process.pid}`;
}

/** True when the process that marked a browse clone is gone (another boot, or no such pid here). */
async function ownerProcessGone(owner: string): Promise<boolean> {
  const [kind, boot, pid] = owner.split(' ');
  if (kind !== 'pid' || !boot || !pid) return false;
  if (boot !== (await currentBootId())) return true;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Runs `read` on a read-only view of `dataset@snapshot` and always closes it; for the CLI on the backup
 * server (`tidemark files`, `tidemark history`). Browse clones of dead CLI processes are destroyed first. */
export async function withSnapshotView<T>(
  dataset: string,
  snapshot: string,
  read: (root: string) => Promise<T>,
  /** Names the clone: the process id by default; a worker serving requests at once adds a nonce to it. */
  reader: string = String(process.pid),
): Promise<T> {
  for (const stale of await readerClones(dataset, 'browse'))
    if (await ownerProcessGone(stale.owner)) await closeClone(stale.name);
  const view = await openSnapshot(dataset, snapshot, `${dataset}-browse-${reader}`, await processOwner());
  try {
    return await read(view.root);
  } finally {
    if (view.clone) await closeClone(view.clone);
  }
}
