// What an rsync exit code means for the backup: pure, shared by the activity and the tests.

export type RsyncOutcome =
  /** Complete copy (0), or only files that vanished while being read (24). */
  | 'complete'
  /** Some files could not be transferred (23): snapshot it, labelled partial, run ends as WARNING. */
  | 'partial'
  /** --max-delete was reached (25): deletions beyond it were skipped, the rest is copied; the shrink
   * guard held, the snapshot is labelled suspect. */
  | 'deletions-held'
  /** Network, ssh or timeout trouble: worth retrying with backoff. */
  | 'transient'
  /** Usage, protocol or configuration trouble: retrying cannot help. */
  | 'fatal';

const transientCodes = new Set([10, 12, 20, 30, 35, 255]);

/** Classifies rsync's exit code (see rsync(1), EXIT VALUES). */
export function classifyRsyncExit(code: number): RsyncOutcome {
  if (code === 0 || code === 24) return 'complete';
  if (code === 23) return 'partial';
  if (code === 25) return 'deletions-held';
  if (transientCodes.has(code)) return 'transient';
  return 'fatal';
}
