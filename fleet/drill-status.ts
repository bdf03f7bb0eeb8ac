// The newest scheduled restore drill of each pair that has drills (`verify.every`), from Temporal visibility:
// one scan of the `restoreDrill` runs for the whole fleet, then the failure's first line of the pairs whose
// newest drill did not pass. fleet/verdict.ts judges it.
import type { Client } from '@temporalio/client';
import { hostAttribute, serverAttribute } from '../domain/search-attributes.js';
import type { Inventory } from '../inventory/schema.js';
import { resolveVerify } from '../inventory/resolve.js';
import type { HostServerPair } from './pairs.js';
import { runRecord } from './run-record.js';
import type { DrillInput } from './verdict.js';

/** Drill runs read at most per pair with drills, newest first, before the rest are given up as "none". */
const rowsPerPair = 3;

/** The drill facts of each pair with drills, keyed "<host>@<server>"; `firstDue` tells when the drill schedules
 * that never fired first will (schedule id → time). */
export async function drillsOfFleet(
  client: Client,
  inventory: Inventory,
  pairs: HostServerPair[],
  firstDue: (pair: HostServerPair) => Date | undefined,
): Promise<Map<string, DrillInput>> {
  const periods = new Map<string, { every: string; everyMs: number }>();
  for (const pair of pairs) {
    const verify = resolveVerify(inventory, pair.host, pair.server);
    if (verify) periods.set(`${pair.host}@${pair.server}`, verify);
  }
  const found = new Map<string, DrillInput>();
  if (periods.size === 0) return found;
  const newest = new Map<string, ReturnType<typeof runRecord>>();
  let rows = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'restoreDrill'`, pageSize: 1000 })) {
    rows += 1;
    const key = `${execution.typedSearchAttributes.get(hostAttribute)}@${execution.typedSearchAttributes.get(serverAttribute)}`;
    if (periods.has(key) && !newest.has(key)) newest.set(key, runRecord(execution));
    if (newest.size === periods.size || rows >= rowsPerPair * periods.size + 100) break;
  }
  for (const pair of pairs) {
    const key = `${pair.host}@${pair.server}`;
    const period = periods.get(key);
    if (!period) continue;
    const last = newest.get(key);
    const due = firstDue(pair);
    found.set(key, {
      every: period.every,
      everyMs: period.everyMs,
      ...(last ? { last: { ...last, ...(await drillNote(client, last)) } } : {}),
      ...(due ? { firstDueAt: due } : {}),
    });
  }
  return found;
}

/** Why the drill did not pass: its result's message (WARNING, or FAILED with a report), else the failure. */
async function drillNote(client: Client, run: ReturnType<typeof runRecord>): Promise<{ message?: string }> {
  if (run.status === 'SUCCESS' || run.status === 'RUNNING' || !run.workflowId) return {};
  try {
    const result = (await client.workflow.getHandle(run.workflowId, run.runId).result()) as
      { message?: string } | undefined;
    return result?.message ? { message: result.message.split('\n')[0]! } : {};
  } catch (error) {
    let cause: unknown = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return { message: String(cause instanceof Error ? cause.message : cause).split('\n')[0]! };
  }
}
