// A directory (or one entry) of a snapshot as the host had it: what `tidemark files` prints on the backup server
// and what its worker tells the web console's browser. The path is looked up without following any symlink
// the host made (pool/beneath.ts), inside a read-only view that is always closed again.
import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import type { LocalTarget } from '../domain/host-target.js';
import { relativeRestorePath } from '../domain/restore.js';
import { classifySnapshot } from '../domain/retention.js';
import { lookupBeneath } from './beneath.js';
import { withSnapshotView } from './snapshot-reader.js';
import { listSnapshots } from './zfs.js';

export interface FileEntry {
  /** The name as UTF-8 (invalid bytes replaced); see nameHex. */
  name: string;
  /** The name's bytes in hex, only when they are not valid UTF-8. */
  nameHex?: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** ISO 8601 UTC. */
  mtime: string;
  /** Permission bits in octal, e.g. "0644", "4755". */
  mode: string;
  uid: number;
  gid: number;
  /** Symlink target. */
  target?: string;
}

export async function describeEntry(path: Buffer, name: Buffer): Promise<FileEntry> {
  const stat = await lstat(path);
  const text = name.toString('utf8');
  const entry: FileEntry = {
    name: text,
    type: typeOf(stat),
    size: stat.size,
    mtime: stat.mtime.toISOString(),
    mode: (stat.mode & 0o7777).toString(8).padStart(4, '0'),
    uid: stat.uid,
    gid: stat.gid,
  };
  if (!Buffer.from(text).equals(name)) entry.nameHex = name.toString('hex');
  if (stat.isSymbolicLink()) entry.target = await readlink(path, 'utf8');
  return entry;
}

export function typeOf(stat: Stats): FileEntry['type'] {
  return stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : stat.isFile() ? 'file' : 'other';
}

/** `relative` ("" for the root) in `dataset@snapshot`: a directory's entries by name, or the one entry when it
 * is not a directory; undefined when the snapshot does not hold it. `reader` names the view (see
 * withSnapshotView): a worker answering several pages at once gives each its own. */
export async function snapshotEntries(
  dataset: string,
  snapshot: string,
  relative: string,
  reader?: string,
): Promise<FileEntry[] | undefined> {
  return withSnapshotView(
    dataset,
    snapshot,
    async (root) => {
      const found = await lookupBeneath(root, relative);
      if (!found.found) return undefined;
      const { stat } = found;
      const full = Buffer.from(found.full);
      if (!stat.isDirectory()) return [await describeEntry(full, Buffer.from(relative.split('/').pop() ?? ''))];
      const names = (await readdir(full, { encoding: 'buffer' })).sort(Buffer.compare);
      return Promise.all(names.map((name) => describeEntry(Buffer.concat([full, Buffer.from('/'), name]), name)));
    },
    reader,
  );
}

/** A worker's answer to the console's browser (activities/host-facts.ts). */
export interface SnapshotListing {
  /** The dataset's snapshot names, oldest first (for the page's picker). */
  snapshots: string[];
  /** The snapshot read ("latest": the newest complete one). */
  snapshot: string;
  path: string;
  /** undefined: the snapshot does not hold the path. */
  entries?: FileEntry[];
  /** More entries than maxEntries: the first ones by name were sent. */
  truncated: boolean;
}

/** Bytes of a file sent in one piece: base64 of it stays under Temporal's 2 MB payload limit. */
export const fileChunkBytes = 1024 * 1024;

export interface FileChunk {
  /** The whole file's size. */
  size: number;
  offset: number;
  /** Up to fileChunkBytes from offset, base64. */
  data: string;
}

/** A piece of a regular file in `dataset@snapshot`; undefined when the snapshot holds no regular file there
 * (missing, a directory, a symlink, or reached only through one). */
export async function readFileChunk(
  dataset: string,
  snapshot: string,
  relative: string,
  offset: number,
  reader?: string,
): Promise<FileChunk | undefined> {
  return withSnapshotView(
    dataset,
    snapshot,
    async (root) => {
      const found = await lookupBeneath(root, relative);
      if (!found.found || !found.stat.isFile()) return undefined;
      // O_NOFOLLOW: the last component was a file when looked at; a snapshot does not change, but be sure.
      const handle = await open(found.full, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const { size } = await handle.stat();
        const buffer = Buffer.alloc(Math.max(0, Math.min(fileChunkBytes, size - offset)));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        return { size, offset, data: buffer.subarray(0, bytesRead).toString('base64') };
      } finally {
        await handle.close();
      }
    },
    reader,
  );
}

export interface HistoryEntry {
  snapshot: string;
  /** From the name when Tidemark made or adopts it, else zfs's creation time; ISO 8601 UTC. */
  takenAt: string;
  label: 'complete' | 'partial' | 'suspect' | 'foreign';
  type: FileEntry['type'];
  size: number;
  mtime: string;
  mode: string;
  /** True for the first snapshot holding PATH and wherever its type, size or mtime differ from the
   * previous snapshot holding it. */
  changed: boolean;
}

export interface HistoryReport {
  host: string;
  server: string;
  dataset: string;
  path: string;
  /** Snapshots holding PATH, oldest first. */
  snapshots: HistoryEntry[];
  /** Snapshots read that do not hold PATH. */
  absentFrom: string[];
}

/** Which of the dataset's snapshots hold `path` (absolute, plain), oldest first, marking where its type, size or
 * mtime changed: `tidemark history`, and the console's history page through the server's worker. */
export async function pathHistory(
  target: Pick<LocalTarget, 'host' | 'server' | 'dataset' | 'policy' | 'adopt'>,
  path: string,
  reader?: string,
): Promise<HistoryReport> {
  const relative = relativeRestorePath(path);
  const report: HistoryReport = {
    host: target.host,
    server: target.server,
    dataset: target.dataset,
    path,
    snapshots: [],
    absentFrom: [],
  };
  let previous: HistoryEntry | undefined;
  for (const snapshot of await listSnapshots(target.dataset)) {
    const stat = await withSnapshotView(
      target.dataset,
      snapshot.name,
      async (root) => {
        const found = await lookupBeneath(root, relative);
        return found.found ? found.stat : undefined;
      },
      reader,
    );
    if (!stat) {
      report.absentFrom.push(snapshot.name);
      continue;
    }
    // As retention reads it: a SOWN or PlanB snapshot this server adopts is a complete copy, not foreign.
    const read = classifySnapshot(snapshot, target.policy.timeZone, target.adopt);
    const entry: HistoryEntry = {
      snapshot: snapshot.name,
      takenAt: new Date(read.takenAt).toISOString(),
      label: read.recognized ? read.label : 'foreign',
      type: typeOf(stat),
      size: stat.size,
      mtime: stat.mtime.toISOString(),
      mode: (stat.mode & 0o7777).toString(8).padStart(4, '0'),
      changed: false,
    };
    entry.changed =
      !previous || previous.type !== entry.type || previous.size !== entry.size || previous.mtime !== entry.mtime;
    report.snapshots.push(entry);
    previous = entry;
  }
  return report;
}
