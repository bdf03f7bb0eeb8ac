// Reading a run's history: the last attempt of an activity and the retry policy it was scheduled with,
// and all of its text (to prove a secret is not in it).
import type { Client } from '@temporalio/client';

export interface ActivityRecord {
  /** Attempt number of each recorded start (Temporal records only the final attempt of a retried step). */
  attempts: number[];
  /** Backoff coefficient and initial interval (seconds) of the retry policy, from the scheduled event. */
  backoffCoefficient?: number;
  initialIntervalSeconds?: number;
}

export async function activityRecord(
  client: Client,
  workflowId: string,
  activityType: string,
): Promise<ActivityRecord> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Set<string>();
  const record: ActivityRecord = { attempts: [] };
  for (const event of history.events ?? []) {
    const schedule = event.activityTaskScheduledEventAttributes;
    if (schedule?.activityType?.name === activityType) {
      scheduled.add(String(event.eventId));
      record.backoffCoefficient = schedule.retryPolicy?.backoffCoefficient ?? undefined;
      record.initialIntervalSeconds = Number(schedule.retryPolicy?.initialInterval?.seconds ?? 0);
    }
    const start = event.activityTaskStartedEventAttributes;
    if (start && scheduled.has(String(start.scheduledEventId))) record.attempts.push(start.attempt ?? 1);
  }
  return record;
}

/** Every string and byte field (payload data decoded as UTF-8) of a proto message, walked by hand
 * (protobufjs' toJSON would turn bytes into base64 and hide what they say). */
export function asText(message: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const walk = (value: unknown): void => {
    if (value === null || value === undefined) return;
    if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
    else if (typeof value === 'string') parts.push(value);
    else if (typeof value === 'object' && !seen.has(value)) {
      seen.add(value);
      for (const item of Array.isArray(value) ? value : Object.values(value)) walk(item);
    }
  };
  walk(message);
  return parts.join('\n');
}

/** All text of a run's history (the latest run of `workflowId` without `runId`). */
export async function historyText(client: Client, workflowId: string, runId?: string): Promise<string> {
  return asText(await client.workflow.getHandle(workflowId, runId).fetchHistory());
}

/** The text of every run of `workflowId` (each `start-backup` of a host is a new run under the same id). */
export async function allRunsText(client: Client, workflowId: string): Promise<{ runs: number; text: string }> {
  const texts: string[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    texts.push(await historyText(client, workflowId, execution.runId));
  }
  return { runs: texts.length, text: texts.join('\n') };
}
