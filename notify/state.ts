// The worker's small state file (servers.<name>.stateFile, default /var/lib/tidemark/state.json): the last
// run of each (host, server), for recovery mail, the partial-run streak and metrics. Written by the notify
// step, read on scrape.
//
// Writes go through a fresh private temporary file (never one a crash left behind), fsync, a rename and
// an fsync of the directory, so a crash leaves the old file or the new one. One worker process
// serialises its own writes. A damaged file is moved aside and a fresh state started: a run never fails
// because of it, and the move is reported.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BackupStatus, BackupSummary } from '../domain/backup.js';
import type { DrillStatus } from '../domain/drill.js';
import { defaultGuards } from '../domain/guards.js';
import { parseSnapshotName } from '../domain/names.js';

export interface RunRecord {
  runId: string;
  status: BackupStatus;
  /** ISO 8601. */
  finishedAt: string;
  bytesTransferred: number;
  filesTransferred: number;
  durationMs: number;
  snapshot: string | null;
  /** Why this run was reported to monitoring as FAILED although its own status is not (partial streak). */
  escalation?: string;
}

export interface HostState {
  host: string;
  server: string;
  last: RunRecord;
  /** Last status other than CANCELLED, this run included. */
  settled?: BackupStatus;
  /** `settled` as it was before `last` (kept so a retried notify step sees the same answer). */
  previousSettled?: BackupStatus;
  /** ISO 8601 time of the last SUCCESS. */
  lastSuccessAt?: string;
  /** Partial runs in a row up to `last`; cancelled runs neither count nor reset it. Absent in older files: 0. */
  partialStreak?: number;
  /** Runs in a row up to `last` held back by the same guard (see heldGuardOf); cancelled runs neither count
   * nor reset it. Absent: none. */
  heldStreak?: { guard: string; runs: number };
}

export interface StateFile {
  version: 1;
  /** Keyed "<host>@<server>". */
  hosts: Record<string, HostState>;
  /** The last scheduled restore drill of each pair, keyed "<host>@<server>" (activities/restore-drill.ts). */
  drills?: Record<string, DrillRecord>;
}

/** One restore drill's result. */
export interface DrillRecord {
  host: string;
  server: string;
  runId: string;
  status: DrillStatus;
  /** ISO 8601. */
  finishedAt: string;
  /** Files compared with the host and found identical, and found differing. */
  verified: number;
  mismatched: number;
  /** One line: what the drill proved or why it failed. */
  message: string;
}

export function emptyState(): StateFile {
  return { version: 1, hosts: {} };
}

/** What recording a run answers. */
export interface AppliedOutcome {
  state: StateFile;
  /** The host's settled status before this run (cancelled runs skipped). */
  previousStatus: BackupStatus | undefined;
  /** Set when this run completes a streak of `partialRunsBeforeFailed` partial runs: report it as FAILED. */
  escalation?: string;
}

/** A run whose snapshot is labelled partial (rsync could not read some files). */
function isPartialRun(summary: BackupSummary): boolean {
  const name = summary.snapshot?.split('@')[1];
  return name !== undefined && parseSnapshotName(name)?.label === 'partial';
}

/** The guard that held this run back, if one did: its copy is suspect (shrink held, or the source shrank),
 * or a filesystem was not mounted and its copy kept. A partial run has its own streak. */
export function heldGuardOf(summary: BackupSummary): string | undefined {
  if (summary.status !== 'WARNING') return undefined;
  const name = summary.snapshot?.split('@')[1];
  if (name !== undefined && parseSnapshotName(name)?.label === 'suspect')
    return /shrink held/.test(summary.message) ? 'shrink held' : 'suspect snapshot';
  if (summary.message.includes('not mounted this time')) return 'filesystem not mounted';
  return undefined;
}

/**
 * Records a run; returns the new state, the host's previous settled status and, after
 * `partialRunsBeforeFailed` partial runs in a row, the escalation to report. Recording the same run again
 * (a retried step) changes nothing and answers the same.
 */
export function applyOutcome(
  state: StateFile,
  summary: BackupSummary,
  runId: string,
  at: Date,
  partialRunsBeforeFailed = defaultGuards.partialRunsBeforeFailed,
  heldRunsBeforeFailed = defaultGuards.heldRunsBeforeFailed,
): AppliedOutcome {
  const key = `${summary.host}@${summary.server}`;
  const entry = state.hosts[key];
  if (entry && entry.last.runId === runId)
    return {
      state,
      previousStatus: entry.previousSettled,
      ...(entry.last.escalation ? { escalation: entry.last.escalation } : {}),
    };
  const previous = entry?.settled;
  const finishedAt = at.toISOString();
  const streakBefore = entry?.partialStreak ?? 0;
  const partialStreak = isPartialRun(summary) ? streakBefore + 1 : summary.status === 'CANCELLED' ? streakBefore : 0;
  const guard = heldGuardOf(summary);
  const heldBefore = entry?.heldStreak;
  const heldStreak = guard
    ? { guard, runs: heldBefore?.guard === guard ? heldBefore.runs + 1 : 1 }
    : summary.status === 'CANCELLED'
      ? heldBefore
      : undefined;
  const escalation =
    isPartialRun(summary) && partialStreak >= partialRunsBeforeFailed
      ? `${partialStreak} partial runs in a row (guards.partialRunsBeforeFailed ${partialRunsBeforeFailed})`
      : guard && heldStreak && heldStreak.runs >= heldRunsBeforeFailed
        ? `${heldStreak.runs} runs in a row held back by the same guard, ${guard} (guards.heldRunsBeforeFailed ${heldRunsBeforeFailed})`
        : undefined;
  // Monitoring is told FAILED when escalated: settle on that, so the next good run is seen as a recovery.
  const reported: BackupStatus = escalation ? 'FAILED' : summary.status;
  const next: HostState = {
    host: summary.host,
    server: summary.server,
    last: {
      runId,
      status: summary.status,
      finishedAt,
      bytesTransferred: summary.bytesTransferred,
      filesTransferred: summary.filesTransferred,
      durationMs: summary.durationMs,
      snapshot: summary.snapshot,
      ...(escalation ? { escalation } : {}),
    },
    ...(reported === 'CANCELLED' ? (previous ? { settled: previous } : {}) : { settled: reported }),
    ...(previous ? { previousSettled: previous } : {}),
    ...(summary.status === 'SUCCESS'
      ? { lastSuccessAt: finishedAt }
      : entry?.lastSuccessAt
        ? { lastSuccessAt: entry.lastSuccessAt }
        : {}),
    partialStreak,
    ...(heldStreak ? { heldStreak } : {}),
  };
  return {
    state: { ...state, hosts: { ...state.hosts, [key]: next } },
    previousStatus: previous,
    ...(escalation ? { escalation } : {}),
  };
}

const statuses: readonly string[] = ['SUCCESS', 'WARNING', 'FAILED', 'CANCELLED'] satisfies BackupStatus[];

/** Why `value` is not a state file this code can use; undefined when it is. */
function stateProblem(value: unknown): string | undefined {
  const isObject = (item: unknown): item is Record<string, unknown> =>
    typeof item === 'object' && item !== null && !Array.isArray(item);
  if (!isObject(value)) return 'not a JSON object';
  if (value.version !== 1) return `version ${JSON.stringify(value.version)}, expected 1`;
  if (!isObject(value.hosts)) return '"hosts" is not an object';
  for (const [key, entry] of Object.entries(value.hosts)) {
    if (!isObject(entry) || typeof entry.host !== 'string' || typeof entry.server !== 'string')
      return `hosts.${key}: no host and server`;
    const last = entry.last;
    if (!isObject(last) || typeof last.runId !== 'string' || typeof last.finishedAt !== 'string')
      return `hosts.${key}: no last run`;
    if (typeof last.status !== 'string' || !statuses.includes(last.status))
      return `hosts.${key}: last run status ${JSON.stringify(last.status)}`;
    if (
      entry.partialStreak !== undefined &&
      !(Number.isInteger(entry.partialStreak) && (entry.partialStreak as number) >= 0)
    )
      return `hosts.${key}: partialStreak ${JSON.stringify(entry.partialStreak)}`;
    const held = entry.heldStreak;
    if (
      held !== undefined &&
      !(isObject(held) && typeof held.guard === 'string' && Number.isInteger(held.runs) && (held.runs as number) > 0)
    )
      return `hosts.${key}: heldStreak ${JSON.stringify(held).slice(0, 80)}`;
  }
  return undefined;
}

export interface LoadedState {
  /** Empty when the file is missing or damaged. */
  state: StateFile;
  /** Why the file's content was not used (bad JSON, wrong version, bad entry); absent when it was, or is missing. */
  damaged?: string;
}

/** The state file's content. Missing: empty. Damaged: empty, with the reason. Unreadable (EACCES, EISDIR): throws. */
export async function loadState(path: string): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyState() };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { state: emptyState(), damaged: `not valid JSON (${(error as Error).message})` };
  }
  const problem = stateProblem(parsed);
  return problem
    ? { state: emptyState(), damaged: `not a Tidemark state file (version 1): ${problem}` }
    : { state: parsed as StateFile };
}

/** Writes `state` so that a crash leaves either the old file or the new one, both complete. */
export async function writeStateFile(
  path: string,
  state: StateFile,
  temporaryName = () => `${path}.${randomBytes(8).toString('hex')}.tmp`,
): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true });
  // 'wx' never opens an existing file: a name a crash left behind (or a symlink planted there) is skipped.
  let temporary = '';
  let handle: FileHandle | undefined;
  for (let attempt = 1; !handle; attempt += 1) {
    temporary = temporaryName();
    try {
      handle = await open(temporary, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw error;
    }
  }
  try {
    try {
      await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  // The rename itself is durable only once the directory is.
  const dir = await open(directory, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Moves a damaged state file to `<path>.corrupt-<time>` (a free name: an earlier one is never replaced). */
async function moveAside(path: string, at: Date): Promise<string> {
  const base = `${path}.corrupt-${at.toISOString().replace(/[-:]/g, '')}`;
  for (let n = 0; ; n += 1) {
    const aside = n === 0 ? base : `${base}-${n}`;
    const taken = await lstat(aside).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    if (taken) continue;
    await rename(path, aside);
    return aside;
  }
}

/** What `recordOutcomeInFile` answers. */
export interface RecordedOutcome {
  previousStatus?: BackupStatus;
  escalation?: string;
  /** The file was damaged: where it went; the state now holds this run only. */
  warning?: string;
}

const queues = new Map<string, Promise<unknown>>();

/** Applies `applyOutcome` to the file, one write at a time per path in this process. */
export async function recordOutcomeInFile(
  path: string,
  summary: BackupSummary,
  runId: string,
  options: { at?: Date; partialRunsBeforeFailed?: number; heldRunsBeforeFailed?: number } = {},
): Promise<RecordedOutcome> {
  const at = options.at ?? new Date();
  const previous = queues.get(path) ?? Promise.resolve();
  const work = previous
    .catch(() => undefined)
    .then(async (): Promise<RecordedOutcome> => {
      const loaded = await loadState(path);
      let warning: string | undefined;
      if (loaded.damaged) {
        const aside = await moveAside(path, at);
        warning = `state file ${path} was ${loaded.damaged}; moved aside to ${aside} and started afresh with this run (earlier runs' statuses are in that copy)`;
      }
      const result = applyOutcome(
        loaded.state,
        summary,
        runId,
        at,
        options.partialRunsBeforeFailed,
        options.heldRunsBeforeFailed,
      );
      try {
        await writeStateFile(path, result.state);
      } catch (error) {
        if (warning)
          (error as Error).message = `${warning}; then writing the fresh one failed: ${(error as Error).message}`;
        throw error;
      }
      return {
        ...(result.previousStatus ? { previousStatus: result.previousStatus } : {}),
        ...(result.escalation ? { escalation: result.escalation } : {}),
        ...(warning ? { warning } : {}),
      };
    });
  queues.set(path, work);
  try {
    return await work;
  } finally {
    if (queues.get(path) === work) queues.delete(path);
  }
}

/** When run `runId` of the summary's (host, server) finished, as `recordOutcome` wrote it; undefined when
 * the file holds another run (or none). Notifications stamp their values with it, retries included. */
export async function recordedFinish(path: string, summary: BackupSummary, runId: string): Promise<Date | undefined> {
  const last = (await loadState(path).catch(() => undefined))?.state.hosts[`${summary.host}@${summary.server}`]?.last;
  return last?.runId === runId ? new Date(last.finishedAt) : undefined;
}

/** Writes a drill's result beside the backups' (same one-writer-per-path queue) and answers the pair's status
 * before it (for recovery mail). A damaged file is left for the next backup's notify step to move aside: the
 * drill's result is then only in Temporal. */
export async function recordDrillInFile(
  path: string,
  drill: DrillRecord,
): Promise<{ warning?: string; previousStatus?: DrillStatus }> {
  const previous = queues.get(path) ?? Promise.resolve();
  const work = previous
    .catch(() => undefined)
    .then(async (): Promise<{ warning?: string; previousStatus?: DrillStatus }> => {
      const loaded = await loadState(path);
      if (loaded.damaged)
        return { warning: `state file ${path} was ${loaded.damaged}; the drill is not recorded in it` };
      const key = `${drill.host}@${drill.server}`;
      const previousStatus = loaded.state.drills?.[key]?.status;
      await writeStateFile(path, { ...loaded.state, drills: { ...loaded.state.drills, [key]: drill } });
      return previousStatus ? { previousStatus } : {};
    });
  queues.set(path, work);
  try {
    return await work;
  } finally {
    if (queues.get(path) === work) queues.delete(path);
  }
}
