// Reading a run's history: the last attempt of an activity and the retry policy it was scheduled with.
import type { Client } from '@temporalio/client';

export interface ActivityRecord {
  /** Attempt number of each recorded start (Temporal records only the final attempt of a retried step). */
  attempts: number[];
  /** Backoff coefficient and initial interval (seconds) of the retry policy, from the scheduled event. */
  backoffCoefficient?: number;
  initialIntervalSeconds?: number;
}

export async function activityRecord(client: Client, workflowId: string, activityType: string): Promise<ActivityRecord> {
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
