// The worker's small state file (servers.<name>.stateFile, default /var/lib/tidemark/state.json): the last
// run of each (host, server), for recovery mail and metrics. Written by the notify step, read on scrape.
// Writes go through a temporary file and a rename; one worker process serialises its own writes.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BackupStatus, BackupSummary } from '../domain/backup.js';

export interface RunRecord {
  runId: string;
  status: BackupStatus;
  /** ISO 8601. */
  finishedAt: string;
  bytesTransferred: number;
  filesTransferred: number;
  durationMs: number;
  snapshot: string | null;
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
}

export interface StateFile {
  version: 1;
  /** Keyed "<host>@<server>". */
  hosts: Record<string, HostState>;
}

export function emptyState(): StateFile {
  return { version: 1, hosts: {} };
}

/**
 * Records a run; returns the new state and the host's previous settled status. Recording the same run
 * again (a retried step) changes nothing and returns the same previous status.
 */
export function applyOutcome(state: StateFile, summary: BackupSummary, runId: string, at: Date): { state: StateFile; previousStatus: BackupStatus | undefined } {
  const key = `${summary.host}@${summary.server}`;
  const entry = state.hosts[key];
  if (entry && entry.last.runId === runId) return { state, previousStatus: entry.previousSettled };
  const previous = entry?.settled;
  const finishedAt = at.toISOString();
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
    },
    ...(summary.status === 'CANCELLED' ? (previous ? { settled: previous } : {}) : { settled: summary.status }),
    ...(previous ? { previousSettled: previous } : {}),
    ...(summary.status === 'SUCCESS' ? { lastSuccessAt: finishedAt } : entry?.lastSuccessAt ? { lastSuccessAt: entry.lastSuccessAt } : {}),
  };
  return { state: { ...state, hosts: { ...state.hosts, [key]: next } }, previousStatus: previous };
}

/** The state file's content; a missing file is an empty state, a damaged one is reported. */
export async function readState(path: string): Promise<StateFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw error;
  }
  const parsed = JSON.parse(text) as StateFile;
  if (parsed?.version !== 1 || typeof parsed.hosts !== 'object') throw new Error(`${path}: not a Tidemark state file (version 1)`);
  return parsed;
}

const queues = new Map<string, Promise<unknown>>();

/** Applies `applyOutcome` to the file, one write at a time per path in this process. */
export async function recordOutcomeInFile(path: string, summary: BackupSummary, runId: string, at = new Date()): Promise<BackupStatus | undefined> {
  const previous = queues.get(path) ?? Promise.resolve();
  const work = previous.catch(() => undefined).then(async () => {
    const result = applyOutcome(await readState(path), summary, runId, at);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(result.state, null, 2)}\n`);
    await rename(temporary, path);
    return result.previousStatus;
  });
  queues.set(path, work);
  try {
    return await work;
  } finally {
    if (queues.get(path) === work) queues.delete(path);
  }
}
