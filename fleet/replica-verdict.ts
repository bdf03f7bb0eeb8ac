// How `tidemark status` and the console judge a replica: the (host, target) pair of a server that takes the
// host's copy by replication (docs/how-to/off-site-copies.md). Its own scheduled runs succeed without pulling
// while the copy is fresh, so they say nothing about the replication: the replica is judged by its lag, the
// age of the newest snapshot replicated to it (from the snapshot's name), against the host's schedule
// interval exactly as a backup's last success is (fleet/verdict.ts): WARNING past staleAfter (default 2)
// intervals, CRITICAL past criticalAfter (4); never replicated is CRITICAL; a last replication that FAILED
// is a WARNING (the lag turns it critical in time). Pure: the runs come from Temporal visibility.
import { formatDuration } from '../domain/duration.js';
import { formatBytes } from '../domain/bytes.js';
import { parseSnapshotName } from '../domain/names.js';
import { defaultStaleness, type Verdict } from './verdict.js';

/** One finished replicateHost run as its result (or failure) says. */
export interface ReplicationRecord {
  status: 'SUCCESS' | 'WARNING' | 'FAILED' | 'RUNNING' | 'CANCELLED';
  startedAt: Date;
  /** The newest snapshot on the target afterwards (SUCCESS: a replicated one). */
  snapshot?: string | null;
  bytesSent?: number;
  message?: string;
}

export interface ReplicaStatus {
  /** The server the copy comes from. */
  source: string;
  /** The newest snapshot replicated to the target; null: none on record. */
  snapshot: string | null;
  /** Its age (now minus the time in its name); null: none on record. */
  lagMs: number | null;
  /** Bytes the newest finished replication sent; null: none on record. */
  bytesSent: number | null;
  lastStatus: ReplicationRecord['status'] | null;
  lastRunAt: string | null;
  /** The lag past which the replica is WARNING and CRITICAL (absent for cron schedules). */
  warningAfterMs?: number;
  criticalAfterMs?: number;
  verdict: Verdict;
  reasons: string[];
}

export interface JudgeReplicaInput {
  source: string;
  /** Recent replicateHost runs of the pair, any order. */
  runs: ReplicationRecord[];
  now: Date;
  /** The host's schedule interval (absent for cron schedules: the lag is shown, not judged). */
  expectedIntervalMs?: number;
  staleAfter?: number;
  criticalAfter?: number;
  /** The pair is new and not due yet: "never replicated" is not a problem yet. */
  notDueYet?: boolean;
}

export function judgeReplica(input: JudgeReplicaInput): ReplicaStatus {
  const runs = [...input.runs].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  const last = runs[0];
  const finished = runs.find((run) => run.status !== 'RUNNING');
  const replicated = runs.find((run) => run.status === 'SUCCESS' && run.snapshot);
  const takenAt = replicated?.snapshot ? parseSnapshotName(replicated.snapshot)?.takenAt : undefined;
  const lagMs = takenAt ? input.now.getTime() - takenAt.getTime() : null;
  const critical: string[] = [];
  const warning: string[] = [];
  const from = `replica from ${input.source}`;
  if (lagMs === null && !input.notDueYet) critical.push(`${from}: never replicated`);
  if (finished?.status === 'FAILED')
    warning.push(`${from}: last replication FAILED${finished.message ? `: ${finished.message.split('\n')[0]}` : ''}`);
  const interval = input.expectedIntervalMs;
  const staleAfter = input.staleAfter ?? defaultStaleness.staleAfter;
  const criticalAfter = input.criticalAfter ?? defaultStaleness.criticalAfter;
  if (lagMs !== null && interval !== undefined) {
    const said = `${from}: newest replicated snapshot ${formatDuration(lagMs, { days: true })} old`;
    const every = formatDuration(interval, { days: true });
    if (lagMs > criticalAfter * interval) critical.push(`${said}, more than ${criticalAfter} × its interval ${every}`);
    else if (lagMs > staleAfter * interval) warning.push(`${said}, more than ${staleAfter} × its interval ${every}`);
  }
  const sent = runs.find((run) => run.bytesSent !== undefined);
  return {
    source: input.source,
    snapshot: replicated?.snapshot ?? null,
    lagMs,
    bytesSent: sent?.bytesSent ?? null,
    lastStatus: last?.status ?? null,
    lastRunAt: last ? last.startedAt.toISOString() : null,
    ...(interval !== undefined
      ? { warningAfterMs: staleAfter * interval, criticalAfterMs: criticalAfter * interval }
      : {}),
    verdict: critical.length > 0 ? 'CRITICAL' : warning.length > 0 ? 'WARNING' : 'OK',
    reasons: [...critical, ...warning],
  };
}

/** The pair's verdict with its replica's: the worse of the two, the replica's reasons after the pair's own. */
export function withReplica<T extends { verdict: Verdict; reasons: string[] }>(
  pair: T,
  replica: ReplicaStatus,
): T & { replica: ReplicaStatus } {
  const rank: Record<Verdict, number> = { OK: 0, WARNING: 1, CRITICAL: 2 };
  return {
    ...pair,
    verdict: rank[replica.verdict] > rank[pair.verdict] ? replica.verdict : pair.verdict,
    reasons: [...pair.reasons, ...replica.reasons],
    replica,
  };
}

/** The replica in one cell, as `status` and the console show it: "from b1: 5h old, 2.1 MB sent". */
export function describeReplica(replica: ReplicaStatus): string {
  const lag = replica.lagMs === null ? 'never replicated' : `${formatDuration(replica.lagMs, { days: true })} old`;
  const sent = replica.bytesSent === null ? '' : `, ${formatBytes(replica.bytesSent)} sent`;
  return `from ${replica.source}: ${lag}${sent}`;
}
