// What a restore does, decided without I/O: which snapshot, which paths, where to, and the rsync command.
// Shared by the CLI (early checks), the restoreHost workflow and its activities. Pure.
import { TidemarkError } from './errors.js';
import { parseSnapshotName } from './names.js';
import type { HostSsh } from './backup.js';
import { fullSystemFlags, rshOption, sshCommand } from './rsync-args.js';

/** Where restored files go. Files land under `dir` with their original absolute paths. */
export type RestoreDestination =
  /** A directory on the backup server itself. */
  | { kind: 'local'; dir: string }
  /** A directory on an inventory host, pushed over ssh; default a fresh `<host's restoreRoot>/<snapshot>-<nonce>/` (domain/restore-target.ts). */
  | { kind: 'host'; host: string; dir?: string };

/** Input of the `restoreHost` workflow. */
export interface RestoreInput {
  /** Whose backup is read. */
  host: string;
  server: string;
  /** A snapshot name, or "latest" (the newest complete one). Default "latest". */
  snapshot?: string;
  /** ISO 8601: the newest complete snapshot taken at or before this time. */
  at?: string;
  /** Absolute paths as they were on the host; empty: everything. */
  paths: string[];
  to: RestoreDestination;
  dryRun?: boolean;
  /** The operator asked in so many words to write over the target's live system (`--target-dir /`). */
  overwriteLiveSystem?: boolean;
  /** rsync --bwlimit (KiB/s, or with a unit rsync accepts, e.g. "10M"). */
  bandwidthLimit?: string;
  /** Local restores: also recreate device nodes, FIFOs, sockets and setuid/setgid bits (`--special-files`). */
  specialFiles?: boolean;
}

/** Everything the restore steps need, resolved on the backup server by `planRestore`. */
export interface RestorePlan {
  host: string;
  server: string;
  /** `<server dataset>/<host>` */
  dataset: string;
  /** Name after the "@". */
  snapshot: string;
  paths: string[];
  /** Where the files go: a local directory, or a host reached over ssh. Always ends in "/". */
  target:
    | { kind: 'local'; dir: string }
    | {
        kind: 'host';
        host: string;
        dir: string;
        /** The host's `restoreRoot`, beneath which its ssh filter lets a receiving rsync write. */
        restoreRoot: string;
        /** Set when `dir` is a default target: its name in `restoreRoot`, made fresh before the push. */
        fresh?: string;
        remote: { address: string; port: number; user: string; sudo: boolean };
        ssh: HostSsh;
      };
  dryRun: boolean;
  bandwidthLimit?: string;
  /** Local restores only: devices, specials and setuid/setgid bits are recreated. */
  specialFiles?: boolean;
  ioTimeoutSeconds: number;
  heartbeatTimeoutMs: number;
}

/** What the open step hands to the copy step: the read-only view of the snapshot. */
export interface OpenedSnapshot {
  /** Directory holding the snapshot's files (its `.zfs/snapshot` directory or a read-only clone). */
  root: string;
  /** The temporary clone, when one was made (zfs-fuse has no `.zfs` directory). */
  clone?: string;
}

export interface RestoreProgress {
  phase: 'planning' | 'opening' | 'copying' | 'closing' | 'done' | 'failed';
  startedAt: string;
  snapshot?: string;
}

export interface RestoreCopyResult {
  filesTransferred: number;
  bytesTransferred: number;
  durationMs: number;
  /** rsync --itemize-changes lines of a dry run (capped at `dryRunLineCap`). */
  changes?: string[];
  /** Lines left out of `changes`. */
  changesOmitted?: number;
}

export interface RestoreSummary extends RestoreCopyResult {
  host: string;
  server: string;
  snapshot: string;
  /** "backup-server:/dir/" or "host:/dir/" */
  target: string;
  paths: string[];
  dryRun: boolean;
  message: string;
}

/** The summary of a finished restore (the workflow's result, and `restore --offline`'s). */
export function restoreSummary(plan: RestorePlan, copy: RestoreCopyResult, elapsed: string): RestoreSummary {
  const target =
    plan.target.kind === 'local' ? `${plan.server}:${plan.target.dir}` : `${plan.target.host}:${plan.target.dir}`;
  const what = plan.paths.length > 0 ? plan.paths.join(', ') : 'everything';
  const message = plan.dryRun
    ? `dry run: ${copy.filesTransferred} changes restoring ${what} from ${plan.snapshot} to ${target}`
    : `restored ${what} from ${plan.dataset}@${plan.snapshot} to ${target}: ${copy.filesTransferred} files, ${copy.bytesTransferred} bytes in ${elapsed}`;
  return {
    host: plan.host,
    server: plan.server,
    snapshot: plan.snapshot,
    target,
    paths: plan.paths,
    dryRun: plan.dryRun,
    message,
    ...copy,
  };
}

/** How many itemized lines a dry run returns (history payloads stay small). */
export const dryRunLineCap = 1_000;

/** Why `path` cannot be restored as given, or undefined when it can. */
export function restorePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `"${path}" is not absolute: give the path as it was on the host, e.g. /etc/nginx`;
  if (path.split('/').some((part) => part === '..' || part === '.'))
    return `"${path}" contains "." or "..": give the plain path as it was on the host`;
  if (/[\0\n]/.test(path)) return `"${path}" contains a NUL or newline`;
  return undefined;
}

/** "/etc//nginx/" → "etc/nginx"; "/" → "" (relative to the snapshot's root). */
export function relativeRestorePath(path: string): string {
  return path.split('/').filter(Boolean).join('/');
}

/** True when `dir` is the root directory: writing there overwrites the live system. */
export function isLiveSystemDir(dir: string): boolean {
  return dir.startsWith('/') && dir.split('/').every((part) => part === '' || part === '.');
}

/** Problems with the input that need no pool access, each naming the option and the fix. */
export function restoreInputProblems(input: RestoreInput): string[] {
  const problems: string[] = [];
  for (const path of input.paths) {
    const problem = restorePathProblem(path);
    if (problem) problems.push(`--path: ${problem}`);
  }
  if (input.at !== undefined && Number.isNaN(Date.parse(input.at)))
    problems.push(`--at: "${input.at}" is not a time; give ISO 8601, e.g. 2026-11-20T18:00:00Z`);
  if (input.at !== undefined && input.snapshot !== undefined && input.snapshot !== 'latest')
    problems.push('--at and --snapshot both pick a snapshot: give one of them');
  const dir = input.to.kind === 'local' ? input.to.dir : input.to.dir;
  if (dir !== undefined && !dir.startsWith('/'))
    problems.push(`${input.to.kind === 'local' ? '--to' : '--target-dir'}: "${dir}" is not an absolute directory`);
  if (dir !== undefined && dir.split('/').some((part) => part === '..' || part === '.'))
    problems.push(
      `${input.to.kind === 'local' ? '--to' : '--target-dir'}: "${dir}" contains "." or "..": give the directory's plain path`,
    );
  // A dry run writes nothing, so showing what a restore over / would change needs no confirmation.
  if (dir !== undefined && isLiveSystemDir(dir) && !input.overwriteLiveSystem && !input.dryRun) {
    problems.push(
      `${input.to.kind === 'local' ? '--to' : '--target-dir'} /: this writes over the live system; add --yes-overwrite-live-system if that is really meant`,
    );
  }
  return problems;
}

/**
 * The snapshot a restore reads: the named one; else the newest complete one taken at or before `at`;
 * else the newest complete one. Partial and suspect snapshots are only used when named. Returns the
 * name, or a message for the operator.
 */
export function pickSnapshot(
  names: string[],
  choice: { snapshot?: string; at?: string },
): { name: string } | { problem: string } {
  const wanted = choice.snapshot ?? 'latest';
  if (wanted !== 'latest') {
    return names.includes(wanted)
      ? { name: wanted }
      : {
          problem: `--snapshot: "${wanted}" does not exist (${describeNames(names)}); "tidemark snapshots" lists them`,
        };
  }
  const limit = choice.at === undefined ? Infinity : Date.parse(choice.at);
  const complete = names
    .map((name) => ({ name, parsed: parseSnapshotName(name) }))
    .filter((entry) => entry.parsed?.label === 'complete' && entry.parsed.takenAt.getTime() <= limit)
    .sort((a, b) => a.parsed!.takenAt.getTime() - b.parsed!.takenAt.getTime());
  const newest = complete.at(-1);
  if (newest) return { name: newest.name };
  if (choice.at !== undefined)
    return {
      problem: `--at: no complete snapshot was taken at or before ${new Date(limit).toISOString()} (${describeNames(names)})`,
    };
  return {
    problem: `no complete snapshot to restore from (${describeNames(names)}); name a partial or suspect one with --snapshot`,
  };
}

function describeNames(names: string[]): string {
  if (names.length === 0) return 'the dataset has no snapshots';
  const shown = names.slice(-5);
  return `${names.length} snapshot${names.length === 1 ? '' : 's'}${names.length > shown.length ? ', newest' : ''}: ${shown.join(', ')}`;
}

/**
 * rsync arguments (without "rsync") copying the plan's paths out of the snapshot at `root` into the
 * target. Same fidelity as the backup; `--relative` with the "/./" marker keeps each path's full name
 * under the target. Never `--delete`: a restore adds and overwrites, it does not remove.
 */
export function restoreRsyncArgs(plan: RestorePlan, root: string, topEntries?: readonly string[]): string[] {
  // Names travel inside rsync's protocol (never through a remote shell, whatever RSYNC_OLD_ARGS says).
  const args = [...fullSystemFlags, '--relative', '--secluded-args', `--timeout=${plan.ioTimeoutSeconds}`];
  // A host's copy restored as root into an ordinary directory of this server: no device nodes, FIFOs or
  // sockets and no setuid/setgid bits, unless asked for (a host target is that host's own business).
  if (plan.target.kind === 'local' && !plan.specialFiles) args.push('--no-devices', '--no-specials', '--chmod=ug-s');
  // --mkpath creates the target's parents even under --dry-run: a dry run must write nothing.
  args.push(...(plan.dryRun ? ['--dry-run', '--itemize-changes'] : ['--mkpath', '--stats', '--info=progress2']));
  if (plan.bandwidthLimit) args.push(`--bwlimit=${plan.bandwidthLimit}`);
  const base = root.replace(/\/+$/, '');
  // A whole host sent as "<root>/./" gives the target directory the host's "/" mode: a fresh default target
  // (0700, domain/restore-target.ts) gets the top-level entries instead, so it stays root's.
  // `--path /` is the whole host too.
  const wholeHost = plan.paths.length === 0 || plan.paths.some((path) => relativeRestorePath(path) === '');
  const freshTarget = plan.target.kind === 'host' && plan.target.fresh !== undefined;
  if (wholeHost && freshTarget && !topEntries?.length)
    throw new TidemarkError(
      'USAGE',
      topEntries
        ? 'the snapshot holds nothing to restore'
        : `a top-level name in the snapshot is not valid UTF-8, so the whole host cannot be sent entry by entry into a fresh 0700 target; give --target-dir an existing directory on the host instead`,
    );
  const sources = wholeHost
    ? freshTarget
      ? topEntries!.map((entry) => `${base}/./${entry}`)
      : [`${base}/./`]
    : plan.paths.map((path) => `${base}/./${relativeRestorePath(path)}`);
  // "--" : a restored path may start with "-".
  if (plan.target.kind === 'local') return [...args, '--', ...sources, plan.target.dir];
  // The backup's own ssh options (known_hosts only, no prompts); no multiplexing for a one-off push.
  args.push(rshOption(sshCommand({ ssh: plan.target.ssh, source: plan.target.remote })));
  if (plan.target.remote.sudo) args.push('--rsync-path=sudo rsync');
  const address = plan.target.remote.address.includes(':')
    ? `[${plan.target.remote.address}]`
    : plan.target.remote.address;
  return [...args, '--', ...sources, `${plan.target.remote.user}@${address}:${plan.target.dir}`];
}

/** "dir/" with exactly one trailing slash. */
export function asDirectory(dir: string): string {
  return `${dir.replace(/\/+$/, '')}/`;
}

/** Workflow id of one restore: the host, the server and when it was asked for (restores may overlap). */
export function restoreWorkflowId(host: string, server: string, at: Date, nonce: string): string {
  return `restore:${host}@${server}:${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')}-${nonce}`;
}
