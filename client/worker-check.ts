// `start-backup --wait` with no worker for the server would wait silently forever (the steps just sit
// in the queue): ask Temporal who polls the server's queue and say so, with the command that fixes it.
import type { Client } from '@temporalio/client';
import { serverTaskQueue } from '../domain/names.js';

/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY: the server's pool steps are activities. */
const activityQueue = 2;
/** Pauses between checks: a worker that is just starting gets 20 s to show up before we speak. */
const pauses = [0, 5_000, 5_000, 10_000];

/** Number of workers that polled the server's queue lately (Temporal keeps pollers for a few minutes). */
export async function serverPollers(client: Client, server: string): Promise<number> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: serverTaskQueue(server) },
    taskQueueType: activityQueue,
  });
  return response.pollers?.length ?? 0;
}

/** While a run is followed: one notice on stderr if nobody polls the server's queue. Returns a stop. */
export function watchForWorker(client: Client, server: string): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const pause = (ms: number) => new Promise((resolve) => (timer = setTimeout(resolve, ms)));
  // Fire and forget: the watch runs beside the caller's wait, only ever prints, and catches its own failures.
  void (async () => {
    for (const ms of pauses) {
      await pause(ms);
      if (stopped) return;
      // A worker, or Temporal cannot tell us: say nothing.
      if ((await serverPollers(client, server).catch(() => undefined)) !== 0) return;
    }
    if (stopped) return;
    process.stderr.write(
      `\nno worker polls ${serverTaskQueue(server)}: the backup waits until one does. On the backup server "${server}" run: tidemark worker --server ${server}\n`,
    );
  })();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
