// The second half of a restore drill: the sampled files restored out of the snapshot into a scratch
// directory with rsync, then checked against the snapshot (content, size, mtime). Proves that the copy can
// be got back, not only that it is there. ACLs and xattrs are left out: the scratch filesystem (often a
// tmpfs) may not hold them, and a drill must not cry wolf; the restore tests prove those.
import { startChild } from '../subprocess/runner.js';
import { mkdtemp, lstat, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fullSystemFlags } from '../domain/rsync-args.js';
import { sha256File } from './file-hash.js';

export interface ScratchFile {
  /** The file in the snapshot view. */
  local: Buffer;
  /** Its path on the host, "/"-led: where it lands under the scratch directory. */
  remote: Buffer;
  size: number;
  mtime: number;
  /** SHA-256 of the snapshot's copy, when already computed. */
  snapshotSha256?: string;
}

export interface ScratchRestore {
  /** Sampled files restored and found identical to the snapshot's copies. */
  identical: number;
  /** Restored files that differ from the snapshot (or did not arrive), by their host path. */
  differing: Array<{ path: Buffer; reason: string }>;
  /** Set when the restore was not tried (no room in the scratch filesystem). */
  notTried?: string;
}

/** The restore's flags without ACLs and xattrs. */
const scratchFlags = fullSystemFlags.filter((flag) => flag !== '--acls' && flag !== '--xattrs');

/** Room left in the scratch filesystem beyond the sample, so a drill never fills it. */
const headroomBytes = 256 * 1024 * 1024;

/** Restores `files` from the snapshot at `root` into a fresh directory under `scratchParent` (default the
 * system's temporary directory), compares each with the snapshot's copy, and removes the directory. */
export async function restoreIntoScratch(
  root: string,
  files: ScratchFile[],
  scratchParent = tmpdir(),
): Promise<ScratchRestore> {
  const result: ScratchRestore = { identical: 0, differing: [] };
  if (files.length === 0) return result;
  const needed = files.reduce((sum, file) => sum + file.size, 0);
  const room = await statfs(scratchParent);
  if (room.bavail * room.bsize < needed + headroomBytes) {
    result.notTried = `${scratchParent} has ${room.bavail * room.bsize} bytes free, the sample needs ${needed} and ${headroomBytes} to spare`;
    return result;
  }
  const scratch = await mkdtemp(join(scratchParent, 'tidemark-verify-'));
  try {
    // Names go NUL-separated on stdin (any bytes, never parsed by a shell); --files-from implies --relative.
    const list = Buffer.concat(files.flatMap((file) => [file.remote.subarray(1), Buffer.from([0])]));
    const rsync = await startChild(
      'rsync',
      [...scratchFlags, '--from0', '--files-from=-', '--', `${root.replace(/\/+$/, '')}/`, `${scratch}/`],
      { input: list, encoding: 'utf8' },
    ).result;
    const rsyncProblem =
      rsync.exitCode === 0 ? undefined : `rsync exited ${rsync.exitCode}: ${String(rsync.stderr ?? '').trim()}`;
    for (const file of files) {
      const reason = rsyncProblem ?? (await differenceOf(file, Buffer.concat([Buffer.from(scratch), file.remote])));
      if (reason) result.differing.push({ path: file.remote, reason });
      else result.identical++;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return result;
}

async function differenceOf(file: ScratchFile, restored: Buffer): Promise<string | undefined> {
  const stat = await lstat(restored).catch(() => undefined);
  if (!stat?.isFile()) return 'not restored';
  if (stat.size !== file.size) return `restored with ${stat.size} bytes, the snapshot has ${file.size}`;
  if (Math.floor(stat.mtimeMs / 1000) !== file.mtime) return 'restored with another modification time';
  const [restoredHash, snapshotHash] = await Promise.all([
    sha256File(restored),
    file.snapshotSha256 ?? sha256File(file.local),
  ]);
  return restoredHash === snapshotHash
    ? undefined
    : `restored content differs (sha256 ${restoredHash}, snapshot ${snapshotHash})`;
}
