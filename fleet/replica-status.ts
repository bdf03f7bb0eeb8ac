// The replica part of a pair's status (fleet/replica-verdict.ts judges it): the recent replicateHost runs of
// a (host, target) the inventory sets up as replication, read by their fixed workflow id, each run's result
// giving the snapshot it left on the target and the bytes it sent. Pairs without replication cost nothing.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { replicationWorkflowId } from '../domain/replication.js';
import { resolveSchedule, resolveStaleness, serverEntry } from '../inventory/resolve.js';
import { intervalMs } from '../inventory/inventory-checks.js';
import { replicationSource } from '../inventory/replication.js';
import type { Inventory } from '../inventory/schema.js';
import { judgeReplica, withReplica, type ReplicationRecord } from './replica-verdict.js';
import type { PairStatus } from './verdict.js';
import { quote } from './visibility-query.js';

/** Runs read per replica at most; the search stops at the newest one that replicated a snapshot. */
const recentReplications = 10;

/** `status` with its replica's lag and verdict folded in, when the pair's server replicates the host. */
export async function replicaOfPair(
  client: Client,
  inventory: Inventory,
  status: PairStatus,
  options: { now: Date; notDueYet: boolean },
): Promise<PairStatus> {
  const source = replicationSource(inventory, status.host, status.server);
  if (source === undefined) return status;
  const interval = intervalMs(resolveSchedule(inventory, status.host).schedule);
  const own = serverEntry(inventory, status.server)?.replication;
  const pair = resolveStaleness(inventory, status.host, status.server);
  const staleAfter = own?.staleAfter ?? pair.staleAfter;
  const criticalAfter = own?.criticalAfter ?? pair.criticalAfter;
  const replica = judgeReplica({
    source,
    runs: await replicationRuns(client, status.host, status.server),
    now: options.now,
    notDueYet: options.notDueYet,
    ...(interval !== undefined ? { expectedIntervalMs: interval } : {}),
    ...(staleAfter !== undefined ? { staleAfter } : {}),
    ...(criticalAfter !== undefined ? { criticalAfter } : {}),
  });
  return withReplica(status, replica);
}

/** The newest replicateHost runs of (host, target), newest first, up to the newest that replicated. */
async function replicationRuns(client: Client, host: string, target: string): Promise<ReplicationRecord[]> {
  const id = replicationWorkflowId(host, target);
  const records: ReplicationRecord[] = [];
  const query = `WorkflowId = ${quote(id)}`;
  for await (const execution of client.workflow.list({ query, pageSize: recentReplications })) {
    const record = await replicationRecord(client, execution);
    records.push(record);
    if ((record.status === 'SUCCESS' && record.snapshot) || records.length >= recentReplications) break;
  }
  return records;
}

async function replicationRecord(client: Client, execution: WorkflowExecutionInfo): Promise<ReplicationRecord> {
  const startedAt = execution.startTime;
  const state = execution.status.name;
  if (state === 'RUNNING' || state === 'PAUSED') return { status: 'RUNNING', startedAt };
  if (state === 'CANCELLED') return { status: 'CANCELLED', startedAt };
  try {
    const summary = (await client.workflow.getHandle(execution.workflowId, execution.runId).result()) as {
      status: 'SUCCESS' | 'WARNING' | 'FAILED';
      snapshot: string | null;
      bytesSent: number;
      message: string;
    };
    return {
      status: summary.status,
      startedAt,
      snapshot: summary.snapshot,
      bytesSent: summary.bytesSent,
      message: summary.message,
    };
  } catch (error) {
    let cause: unknown = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return { status: 'FAILED', startedAt, message: String(cause instanceof Error ? cause.message : cause) };
  }
}
