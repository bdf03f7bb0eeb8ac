// What an attacker with access to the Temporal namespace can run: a workflow of its own that schedules any
// activity, with any input, on a backup server's queues. The hostile-activity-input tests run it against a
// real worker to show such input can at most fail that activity.
import { proxyActivities } from '@temporalio/workflow';

type AnyActivities = Record<string, (...args: unknown[]) => Promise<unknown>>;

export async function callActivity(taskQueue: string, name: string, args: unknown[]): Promise<unknown> {
  const activities = proxyActivities<AnyActivities>({
    taskQueue,
    scheduleToStartTimeout: '1m',
    startToCloseTimeout: '2m',
    heartbeatTimeout: '30s',
    retry: { maximumAttempts: 1 },
  });
  return activities[name]!(...args);
}
