// Replication of one host's snapshots from the server that pulled it (source) to another (target):
// the target lists what it has → the source sends from the newest common snapshot (the first time in full)
// into the target's filtered `zfs receive` → the target marks the copy read-only, records the new base and
// runs its own retention. An interrupted send is retried from the common snapshot, listed afresh.
// Deterministic workflow code: every side effect is an activity on one of the two servers' queues.
import { ApplicationFailure, isCancellation, sleep } from '@temporalio/workflow';
import type { SendResult } from '../activities/replicate-send.js';
import type { PreparedTarget } from '../activities/replicate-target.js';
import { formatDuration } from '../domain/duration.js';
import { innermostCause } from '../domain/failures.js';
import { onServer, onTransferSlot, stepPolicy } from './step-policy.js';
import { sourceCaughtUp, type ReplicationInput } from '../domain/replication.js';

export interface ReplicationSummary extends ReplicationInput {
  status: 'SUCCESS' | 'WARNING' | 'FAILED';
  /** full, incremental, up-to-date, nothing, diverged */
  kind: SendResult['plan']['kind'];
  /** The newest snapshot on the target afterwards (the next incremental's base). */
  snapshot: string | null;
  received: string[];
  bytesSent: number;
  /** Rounds of list-and-send (2 or more: an interrupted send was retried). */
  rounds: number;
  durationMs: number;
  pruned: string[];
  /** Where the target's diverged history (failover pulls) was set aside, when it was. */
  setAside?: string;
  message: string;
}

export async function replicateHost(input: ReplicationInput): Promise<ReplicationSummary> {
  const started = Date.now();
  const onTarget = onServer(input.target, stepPolicy.longPool);
  const pair = `${input.host} from ${input.source} to ${input.target}`;
  /** Where a diverged history of the target went (at most once per run). */
  let setAside: string | undefined;
  /** The target's newest snapshot before this run: everything after it on the target came with this run. */
  let before: string | null | undefined;
  for (let round = 1; ; round++) {
    const target = await onTarget.prepareReplicaTarget(input);
    before ??= target.snapshots.at(-1)?.name ?? null;
    let sent: SendResult;
    try {
      sent = await sending(input, target).sendReplica({
        ...input,
        targetSnapshots: target.snapshots,
        resumable: target.resumable,
        ...(target.resumeToken ? { resumeToken: target.resumeToken } : {}),
      });
    } catch (error) {
      if (isCancellation(error)) throw error;
      const cause = innermostCause(error);
      const why = cause instanceof Error ? cause.message : String(cause);
      const retryable = !(cause instanceof ApplicationFailure && cause.nonRetryable);
      if (!retryable || round >= target.attempts)
        throw ApplicationFailure.nonRetryable(
          `replication of ${pair} failed after ${round} round${round === 1 ? '' : 's'}: ${why}`,
          'ReplicationFailed',
        );
      // The next round lists the target again and sends from the common snapshot (or resumes).
      await sleep(Math.min(target.retryIntervalMs * 2 ** (round - 1), 600_000));
      continue;
    }
    const summary = (status: ReplicationSummary['status'], snapshot: string | null, message: string) => ({
      ...input,
      status,
      kind: sent.plan.kind,
      snapshot,
      received: sent.received,
      bytesSent: sent.bytesSent,
      rounds: round,
      durationMs: Date.now() - started,
      pruned: [] as string[],
      message,
    });
    const plan = sent.plan;
    if (plan.kind === 'nothing') return summary('WARNING', null, `${pair}: the source has no snapshot yet`);
    // Up to date after an interrupted round still finishes: that round's receive may have completed.
    if (plan.kind === 'up-to-date' && round === 1)
      return summary('SUCCESS', plan.snapshot, `${pair}: up to date at ${plan.snapshot}`);
    if (plan.kind === 'diverged') {
      // Back from a failover (docs/how-to/off-site-copies.md): set the target's own history aside, then send.
      if (!sourceCaughtUp(plan) || setAside !== undefined)
        return summary(
          'WARNING',
          plan.targetNewest,
          `${pair}: not replicated, ${plan.why}; the target's copy is newer than the source's ${plan.sourceNewest}, so it stays until the source catches up; nothing was destroyed`,
        );
      setAside = (
        await onTarget.setAsideDiverged({ ...input, ...(plan.common === undefined ? {} : { common: plan.common }) })
      ).aside;
      before = plan.common ?? null;
      continue;
    }
    // bytesSent is data only (the target records it for its metrics): old histories replay unchanged.
    const finished = await onTarget.finishReplicaTarget({ ...input, after: before, bytesSent: sent.bytesSent });
    const received = finished.received;
    const result: ReplicationSummary = {
      ...summary(
        'SUCCESS',
        finished.newest,
        `${pair}: ${plan.kind === 'up-to-date' ? 'a completed' : plan.kind} send of ${received.length} snapshot${received.length === 1 ? '' : 's'} ` +
          `up to ${finished.newest}, ${sent.bytesSent} bytes in ${formatDuration(Date.now() - started)}` +
          (round > 1 ? ` (round ${round}: earlier sends were interrupted)` : ''),
      ),
      received,
    };
    if (setAside) result.message += `; the target's diverged history (failover pulls) was set aside as ${setAside}`;
    const retention = finished.retention;
    if (retention && 'error' in retention) {
      result.status = 'WARNING';
      result.message += `; the target's snapshots were not pruned: ${retention.error}`;
    } else if (retention) {
      result.pruned = retention.result.destroyed;
      result.message += `; target retention pruned ${retention.result.destroyed.length}`;
    }
    return setAside ? { ...result, setAside } : result;
  }
}

/** The send runs on the source's transfer queue (its slots are the source's concurrency); one attempt per
 * round, since only a new listing of the target tells where the next attempt starts. */
function sending(input: ReplicationInput, target: PreparedTarget) {
  return onTransferSlot(
    input.source,
    stepPolicy.replicationSend(target.heartbeatTimeoutMs, `zfs send ${input.host} ${input.source}→${input.target}`),
  );
}
