// What a transfer will delete only because the operator excluded it: files of the current copy that the run's
// filter rules now exclude (--delete-excluded purges them). Counted with rsync itself (a local dry run from the
// copy onto itself, the run's own rules and paths), so that its pattern rules are rsync's, not a model of them.
// Those deletions were asked for: the shrink guard and --max-delete make room for them (domain/guards.ts).
import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupPlan } from '../domain/backup.js';
import type { ExcludedPurge } from '../domain/guards.js';
import { rsyncFilterInput } from '../domain/rsync-args.js';
import { startChild } from '../subprocess/runner.js';

/** A short fingerprint of the run's filter rules, recorded on the snapshot: the next run counts the purge
 * only when its rules differ. */
export function filterFingerprint(plan: Pick<BackupPlan, 'excludes' | 'include'>): string {
  return createHash('sha256').update(rsyncFilterInput(plan)).digest('hex').slice(0, 32);
}

/** Entries (files of all kinds and directories, as rsync's --max-delete and "Number of files" count) and bytes of `copy` that the plan's rules exclude; `protect`
 * are the transfer's own protect rules (held mounts), left out as the transfer leaves them. */
export async function countExcludedInCopy(
  plan: BackupPlan,
  copy: string,
  protect: readonly string[],
): Promise<ExcludedPurge> {
  const filterInput = rsyncFilterInput(plan);
  const none: ExcludedPurge = { entries: 0, bytes: 0 };
  if (filterInput === '') return none;
  const root = copy.replace(/\/+$/, '');
  const sources: string[] = [];
  for (const path of plan.paths) {
    const inCopy = join(root, path);
    if (
      await lstat(inCopy).then(
        () => true,
        () => false,
      )
    )
      sources.push(`${root}/.${path.startsWith('/') ? path : `/${path}`}`);
  }
  if (sources.length === 0) return none;
  // -n: nothing is written. From the copy onto itself with --relative: the same transfer root as the backup's.
  const result = await startChild(
    'rsync',
    [
      '--dry-run',
      '--archive',
      '--relative',
      '--one-file-system',
      '--delete',
      '--delete-excluded',
      '--out-format=%i %n',
      ...protect,
      '--exclude-from=-',
      '--',
      ...sources,
      `${root}/`,
    ],
    { input: filterInput, encoding: 'utf8' },
  ).result;
  const stdout = String(result.stdout ?? '');
  if (result.exitCode !== 0 && result.exitCode !== 24)
    throw new Error(
      `counting the newly excluded files of ${root} failed (rsync exit ${result.exitCode}): ${String(result.stderr ?? '').slice(-400)}`,
    );
  const purge = { ...none };
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('*deleting ')) continue;
    const name = line.slice('*deleting '.length).trim();
    purge.entries += 1;
    if (name.endsWith('/')) continue;
    // rsync escapes unprintable bytes (\#ooo); such a name's size is not counted, never guessed.
    const stat = await lstat(join(root, name)).catch(() => undefined);
    if (stat?.isFile()) purge.bytes += stat.size;
  }
  return purge;
}
