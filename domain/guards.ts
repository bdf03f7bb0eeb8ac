// The data-safety guards of a backup run: settings, the baseline a snapshot records, and the pure
// judgements made from them. Pure (no Node modules): workflows and activities both use it.
//
// The promise: a run never makes things worse than doing nothing. A guard that may be wrong keeps the
// old copy and says so (WARNING with the reason); it never deletes on a guess.

/** `guards:` of the inventory, resolved (defaults/host); every default is documented here. */
export interface GuardSettings {
  /** rsync stops deleting after this share of the baseline's files (--max-delete). Default 25 (%). */
  maxDeletePercent: number;
  /** ...but always allows this many deletions (small trees churn). Default 50. */
  maxDeleteMin: number;
  /** A drop of files or bytes by more than this share against the baseline marks the snapshot suspect.
   * Default 30 (%). */
  shrinkPercent: number;
  /** Partial and suspect snapshots newer than the newest complete one that retention keeps. Default 7. */
  maxAnomalySnapshots: number;
  /** This many partial runs in a row are reported to monitoring as FAILED. Default 3. */
  partialRunsBeforeFailed: number;
  /** This many runs in a row held back by the same guard (a suspect snapshot: shrink held or shrank; a
   * filesystem not mounted, its copy kept) are reported to monitoring as FAILED, and `status` says CRITICAL.
   * Default 3. */
  heldRunsBeforeFailed: number;
}

export const defaultGuards: Readonly<GuardSettings> = {
  maxDeletePercent: 25,
  maxDeleteMin: 50,
  shrinkPercent: 30,
  maxAnomalySnapshots: 7,
  partialRunsBeforeFailed: 3,
  heldRunsBeforeFailed: 3,
};

/** What a complete snapshot holds, stored as ZFS user properties on the snapshot itself. */
export interface Baseline {
  /** The snapshot it was read from (name after "@"). */
  snapshot: string;
  /** rsync's "Number of files" of that run (all kinds). */
  files: number;
  /** rsync's "Total file size" of that run. */
  bytes: number;
  /** Paths selected from the mount table (mode "mounts"); undefined when not recorded. */
  mounts?: string[];
  /** Bytes that run wrote ("Total transferred file size"): the next run's expected write. */
  written: number;
  /** Fingerprint of that run's filter rules (excludes, allow-list); undefined when not recorded. */
  filter?: string;
}

/** What the copy holds that the run's filter rules now exclude: --delete-excluded purges it because the operator
 * asked for it, so it counts against neither --max-delete nor the shrink guard. */
export interface ExcludedPurge {
  /** Files of all kinds and directories. */
  entries: number;
  /** Size of the regular files among them. */
  bytes: number;
}

/** User property names on snapshots (baseline) and datasets (owner, lease). */
export const snapshotProperties = {
  files: 'tidemark:files',
  bytes: 'tidemark:bytes',
  mounts: 'tidemark:mounts',
  written: 'tidemark:written',
  /** Fingerprint of the run's filter rules: a change makes the next run count what it newly excludes. */
  filter: 'tidemark:filter',
  /** Why a suspect snapshot is suspect. */
  suspect: 'tidemark:suspect',
} as const;

/** rsync --max-delete for a run against `baseline`; undefined: no limit (no baseline, or allowed to shrink). */
export function maxDeleteFor(
  baseline: Baseline | undefined,
  guards: GuardSettings,
  allowShrink: boolean,
  purge?: ExcludedPurge,
): number | undefined {
  if (!baseline || allowShrink) return undefined;
  const kept = baselineWithoutPurge(baseline, purge);
  return Math.max(guards.maxDeleteMin, Math.ceil((kept.files * guards.maxDeletePercent) / 100)) + (purge?.entries ?? 0);
}

/** Whether the run must count what its rules newly exclude: there is a baseline to guard and its rules differ
 * (or were not recorded). */
export function purgeToCount(baseline: Baseline | undefined, fingerprint: string, allowShrink: boolean): boolean {
  return baseline !== undefined && !allowShrink && baseline.filter !== fingerprint;
}

/** The baseline as it would have been without what is now excluded: the shrink guard's comparison. */
export function baselineWithoutPurge(baseline: Baseline, purge: ExcludedPurge | undefined): Baseline {
  if (!purge || purge.entries === 0) return baseline;
  return {
    ...baseline,
    files: Math.max(0, baseline.files - purge.entries),
    bytes: Math.max(0, baseline.bytes - purge.bytes),
  };
}

/** Mount points selected last time and missing now (mode "mounts" only): their copies are protected. */
export function missingMounts(
  baseline: Baseline | undefined,
  selected: readonly string[],
  allowShrink: boolean,
): string[] {
  if (!baseline?.mounts || allowShrink) return [];
  const now = new Set(selected);
  return baseline.mounts.filter((mount) => !now.has(mount));
}

/** Why a finished transfer looks like lost data (files or bytes dropped beyond the threshold); undefined: fine. */
export function shrinkReason(
  baseline: Baseline | undefined,
  now: { files: number; bytes: number },
  guards: GuardSettings,
  allowShrink: boolean,
): string | undefined {
  if (!baseline || allowShrink) return undefined;
  const drops: string[] = [];
  const limit = guards.shrinkPercent;
  const drop = (before: number, after: number) => (before > 0 ? ((before - after) * 100) / before : 0);
  const files = drop(baseline.files, now.files);
  const bytes = drop(baseline.bytes, now.bytes);
  if (files > limit) drops.push(`files ${baseline.files} → ${now.files} (-${Math.round(files)}%)`);
  if (bytes > limit) drops.push(`bytes ${baseline.bytes} → ${now.bytes} (-${Math.round(bytes)}%)`);
  if (drops.length === 0) return undefined;
  return `source shrank against ${baseline.snapshot}: ${drops.join(', ')}, more than guards.shrinkPercent ${limit}%`;
}

/** The properties a new snapshot records (`zfs snapshot -o` pairs); mounts only for mount-table selections. */
export function baselineProperties(figures: {
  files: number;
  bytes: number;
  written: number;
  mounts?: string[];
  suspect?: string;
  filter?: string;
}): string[] {
  const pairs = [
    `${snapshotProperties.files}=${figures.files}`,
    `${snapshotProperties.bytes}=${figures.bytes}`,
    `${snapshotProperties.written}=${figures.written}`,
  ];
  if (figures.filter) pairs.push(`${snapshotProperties.filter}=${figures.filter}`);
  if (figures.mounts) pairs.push(`${snapshotProperties.mounts}=${JSON.stringify(figures.mounts)}`);
  // Older ZFS keeps at most 1024 bytes a value: the reason is for people, the name already says suspect.
  if (figures.suspect) pairs.push(`${snapshotProperties.suspect}=${figures.suspect.slice(0, 1000)}`);
  return pairs;
}
