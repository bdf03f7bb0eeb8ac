// How `tidemark status` judges one (host, server) pair from its recent runs, in Nagios terms:
// OK (0) fresh and good, or new and not due yet; WARNING (1) last run WARNING (CRITICAL when it completed a
// streak monitoring was told as FAILED: guards.heldRunsBeforeFailed, partialRunsBeforeFailed) or CANCELLED, no success within --stale, or the last
// success older than `staleAfter` (2) times the pair's schedule interval; CRITICAL (2) last run FAILED,
// never backed up, or the last success older than `criticalAfter` (4) times the interval. A paused pair says
// PAUSED and why, and goes stale like any other. Pure: the runs come from Temporal visibility.
import { formatDuration } from '../domain/duration.js';
import type { RunStatus } from '../domain/search-attributes.js';
import type { ReplicaStatus } from './replica-verdict.js';

/** One run as visibility reports it. */
export interface RunRecord {
  status: RunStatus;
  startedAt: Date;
  /** Absent while running. */
  closedAt?: Date;
  bytes?: number;
  /** Which run, to read its failure. */
  workflowId?: string;
  runId?: string;
}

export type Verdict = 'OK' | 'WARNING' | 'CRITICAL';

/** Multiples of a pair's schedule interval after which its last success is stale: WARNING, then CRITICAL. */
export const defaultStaleness = { staleAfter: 2, criticalAfter: 4 } as const;
export const verdictExitCode: Record<Verdict, 0 | 1 | 2> = { OK: 0, WARNING: 1, CRITICAL: 2 };

export interface PairStatus {
  host: string;
  server: string;
  /** Newest run's status; null: never run. */
  lastStatus: RunStatus | null;
  lastRunAt: string | null;
  lastRunDurationMs: number | null;
  lastRunBytes: number | null;
  /** When the newest SUCCESS run ended; null: none on record. */
  lastSuccessAt: string | null;
  lastSuccessAgeMs: number | null;
  verdict: Verdict;
  /** Why the verdict is not OK, most serious first. */
  reasons: string[];
  /** The pair's schedule is paused: the note saying why (absent: not paused). */
  paused?: string;
  /** The server takes the host's copy by replication: the replica's lag and verdict (fleet/replica-verdict.ts),
   * already folded into `verdict` and `reasons`. */
  replica?: ReplicaStatus;
}

export interface JudgeInput {
  host: string;
  server: string;
  /** Recent runs, any order. */
  runs: RunRecord[];
  /** Newest SUCCESS run, if the recent runs do not include one. */
  lastSuccess?: RunRecord;
  now: Date;
  /** --stale in ms: a pair whose last success is older is WARNING. */
  staleMs?: number;
  /** The pair's schedule interval (absent for cron schedules): ages are judged against multiples of it. */
  expectedIntervalMs?: number;
  /** Multiples of the interval (default defaultStaleness). */
  staleAfter?: number;
  criticalAfter?: number;
  /** The pair's schedule is paused, with this note (empty: no note). */
  paused?: string;
  /** The first line of the newest finished run's failure, when it FAILED. */
  failure?: string;
  /** The newest finished run ended WARNING and completed a streak monitoring was told as FAILED (the same
   * guard, or partial runs, run after run): CRITICAL with this reason. */
  escalation?: string;
  /** The pair's schedule has never fired and first will at this time: before it, "never backed up" is
   * not a problem yet. */
  firstDueAt?: Date;
}

export function judgePair(input: JudgeInput): PairStatus {
  const runs = [...input.runs].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  const last = runs[0];
  const success = [
    ...runs.filter((run) => run.status === 'SUCCESS'),
    ...(input.lastSuccess ? [input.lastSuccess] : []),
  ].sort((a, b) => (b.closedAt ?? b.startedAt).getTime() - (a.closedAt ?? a.startedAt).getTime())[0];
  const successAt = success ? (success.closedAt ?? success.startedAt) : undefined;
  // A run still going says nothing yet: the newest finished one decides.
  const finished = runs.find((run) => run.status !== 'RUNNING');
  const hadCopy = runs.some((run) => run.status === 'SUCCESS' || run.status === 'WARNING') || success !== undefined;

  const critical: string[] = [];
  const warning: string[] = [];
  const notDueYet = !last && input.firstDueAt !== undefined && input.firstDueAt > input.now;
  if (!hadCopy && !notDueYet)
    critical.push(last ? `never backed up (${runs.length} run(s), none SUCCESS or WARNING)` : 'never backed up');
  if (finished?.status === 'FAILED')
    critical.push(input.failure ? `last run FAILED: ${input.failure}` : 'last run FAILED');
  if (finished?.status === 'WARNING' && input.escalation)
    critical.push(`last run WARNING, reported to monitoring as FAILED: ${input.escalation}`);
  else if (finished?.status === 'WARNING') warning.push('last run WARNING');
  if (finished?.status === 'CANCELLED') warning.push('last run CANCELLED');
  const interval = input.expectedIntervalMs;
  if (interval !== undefined && hadCopy && successAt) {
    const age = input.now.getTime() - successAt.getTime();
    const staleAfter = input.staleAfter ?? defaultStaleness.staleAfter;
    const criticalAfter = input.criticalAfter ?? defaultStaleness.criticalAfter;
    const said = `last SUCCESS ${formatDuration(age, { days: true })} ago`;
    const every = formatDuration(interval, { days: true });
    if (age > criticalAfter * interval) critical.push(`${said}, more than ${criticalAfter} × its interval ${every}`);
    else if (age > staleAfter * interval) warning.push(`${said}, more than ${staleAfter} × its interval ${every}`);
  }
  if (input.paused !== undefined) warning.push(`PAUSED${input.paused ? ` (${input.paused})` : ''}`);
  if (input.staleMs !== undefined && hadCopy) {
    const age = successAt ? input.now.getTime() - successAt.getTime() : undefined;
    if (age === undefined) warning.push('no SUCCESS on record');
    else if (age > input.staleMs)
      warning.push(`last SUCCESS ${formatDuration(age, { days: true })} ago, older than --stale`);
  }
  return {
    host: input.host,
    server: input.server,
    lastStatus: last?.status ?? null,
    lastRunAt: last ? last.startedAt.toISOString() : null,
    lastRunDurationMs: last ? (last.closedAt ?? input.now).getTime() - last.startedAt.getTime() : null,
    lastRunBytes: last?.bytes ?? null,
    lastSuccessAt: successAt ? successAt.toISOString() : null,
    lastSuccessAgeMs: successAt ? input.now.getTime() - successAt.getTime() : null,
    verdict: critical.length > 0 ? 'CRITICAL' : warning.length > 0 ? 'WARNING' : 'OK',
    reasons: [...critical, ...warning],
    ...(input.paused !== undefined ? { paused: input.paused } : {}),
  };
}

/** The worst verdict of all pairs (OK for none). */
export function fleetVerdict(pairs: PairStatus[]): Verdict {
  if (pairs.some((pair) => pair.verdict === 'CRITICAL')) return 'CRITICAL';
  return pairs.some((pair) => pair.verdict === 'WARNING') ? 'WARNING' : 'OK';
}

/** One Nagios plugin line: "TIDEMARK CRITICAL: text | perfdata" (perfdata per the plugin guidelines). */
export function nagiosLine(pairs: PairStatus[], staleMs?: number): string {
  const verdict = fleetVerdict(pairs);
  const count = (wanted: Verdict) => pairs.filter((pair) => pair.verdict === wanted).length;
  const problems = pairs.filter((pair) => pair.verdict !== 'OK');
  const shown = problems.slice(0, 5).map((pair) => `${pair.host}@${pair.server} ${pair.reasons[0]}`);
  const more = problems.length > shown.length ? `, and ${problems.length - shown.length} more` : '';
  const text =
    problems.length === 0
      ? `${pairs.length} pairs fresh and good`
      : `${count('CRITICAL')} critical, ${count('WARNING')} warning of ${pairs.length} pairs: ${shown.join('; ')}${more}`;
  const ages = pairs.flatMap((pair) => (pair.lastSuccessAgeMs === null ? [] : [pair.lastSuccessAgeMs]));
  // "U" (undetermined, in the plugin guidelines) when no pair has a success: never is not 0 s ago.
  const oldest = ages.length > 0 ? `${Math.round(Math.max(...ages) / 1000)}s` : 'U';
  const never = pairs.filter((pair) => pair.reasons.some((reason) => reason.startsWith('never backed up'))).length;
  const perfdata = [
    `pairs=${pairs.length};;;0`,
    `ok=${count('OK')};;;0;${pairs.length}`,
    `warning=${count('WARNING')};;;0;${pairs.length}`,
    `critical=${count('CRITICAL')};;;0;${pairs.length}`,
    `never=${never};;;0;${pairs.length}`,
    `oldest_success_age=${oldest};${staleMs === undefined ? '' : Math.round(staleMs / 1000)};;0`,
    ...replicaPerfdata(pairs),
  ];
  return `TIDEMARK ${verdict}: ${text.replaceAll('|', '/')} | ${perfdata.join(' ')}`;
}

/** Per replica (fleet/replica-verdict.ts): its lag with the WARNING and CRITICAL thresholds, and the bytes the
 * newest replication sent; "U" when never replicated. Nothing for fleets without replication. */
function replicaPerfdata(pairs: PairStatus[]): string[] {
  const seconds = (ms: number | undefined) => (ms === undefined ? '' : String(Math.round(ms / 1000)));
  return pairs.flatMap(({ host, server, replica }) => {
    if (!replica) return [];
    const lag = replica.lagMs === null ? 'U' : `${seconds(replica.lagMs)}s`;
    return [
      `'replica_lag_${host}@${server}'=${lag};${seconds(replica.warningAfterMs)};${seconds(replica.criticalAfterMs)};0`,
      `'replica_sent_${host}@${server}'=${replica.bytesSent === null ? 'U' : `${replica.bytesSent}B`};;;0`,
    ];
  });
}
