// `--wait` with no live worker for the server would wait silently (the steps just sit in the queue): watch
// the worker's own sign of life (domain/worker-liveness.ts) and say so, with the command that fixes it.
// A server whose worker predates the sign of life is judged by Temporal's poller list, as before.
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { serverTaskQueue } from '../domain/names.js';
import {
  livenessEveryMs,
  livenessScheduleId,
  livenessSilentMs,
  parseLivenessNote,
  type LivenessNote,
} from '../domain/worker-liveness.js';

/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY: the server's pool steps are activities. */
const activityQueue = 2;
/** A note older than this by our clock is stale at once (clocks may differ by less than this). */
const staleAtOnceMs = 60_000;

/** Number of workers that polled the server's queue lately (Temporal keeps pollers for a few minutes). */
export async function serverPollers(client: Client, server: string): Promise<number> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: serverTaskQueue(server) },
    taskQueueType: activityQueue,
  });
  return response.pollers?.length ?? 0;
}

/** The server's liveness note; null when no worker ever wrote one (an older worker), undefined when unreadable. */
export async function livenessOf(client: Client, server: string): Promise<LivenessNote | null | undefined> {
  try {
    const description = await client.schedule.getHandle(livenessScheduleId(server)).describe();
    return parseLivenessNote(description.state.note) ?? null;
  } catch (error) {
    return error instanceof ScheduleNotFoundError ? null : undefined;
  }
}

/** What the operator reads: which queue waits, since when the worker is silent, and what to run. */
export function noWorkerNotice(server: string, last: LivenessNote | null, what: string): string {
  const since = last
    ? ` (its worker ${last.worker} was last seen ${last.state === 'stopped' ? 'stopping' : 'alive'} at ${last.at})`
    : '';
  return `\nno live worker serves ${serverTaskQueue(server)}${since}: the ${what} waits until one does. On the backup server "${server}" run: systemctl restart tidemark-worker@${server} (or: tidemark worker --server ${server})\n`;
}

/** While a run is followed: one notice on stderr within ~20 s when no live worker serves the server.
 * Returns a stop. */
export function watchForWorker(client: Client, server: string, what = 'run'): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const pause = (ms: number) => new Promise((resolve) => (timer = setTimeout(resolve, ms)));
  // Fire and forget: the watch runs beside the caller's wait, only ever prints, and catches its own failures.
  void (async () => {
    // Since when (our clock) the worker has given no new sign of life.
    let quietSince: number | undefined;
    let lastNote: string | undefined;
    for (;;) {
      if (stopped) return;
      const last = await livenessOf(client, server);
      const now = Date.now();
      if (last === null) {
        // No note: a worker of an older version polls (say nothing, as before), or none ever ran.
        if ((await serverPollers(client, server).catch(() => undefined)) !== 0) return;
        quietSince ??= now;
      } else if (last) {
        const note = `${last.state} ${last.at}`;
        if (note !== lastNote) {
          lastNote = note;
          const gone = last.state === 'stopped' || now - Date.parse(last.at) > staleAtOnceMs;
          quietSince = gone ? now - livenessSilentMs : now;
        }
      }
      if (stopped) return;
      if (quietSince !== undefined && now - quietSince >= livenessSilentMs) {
        process.stderr.write(noWorkerNotice(server, last ?? null, what));
        return;
      }
      await pause(livenessEveryMs);
    }
  })();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
