// How `--wait` (backup and restore) follows a run's data: the copy's progress is read from Temporal's record of
// the running activity (its heartbeat details, which the transfer worker sends every second), never by asking
// the worker, so a watcher costs the worker nothing; the run's phase, which needs the worker (a query), is
// asked at most every `queryEveryMs`.
import { defaultPayloadConverter, type WorkflowHandle } from '@temporalio/client';
import type { TransferProgress } from '../domain/backup.js';
import { formatBytes } from '../domain/bytes.js';

/** How often the watcher reads the run's description (Temporal only) while data moves. */
export const pollWhileMovingMs = 1_000;
/** How often the phase is asked of the worker (a workflow query), at most. */
export const queryEveryMs = 5_000;

type Description = Awaited<ReturnType<WorkflowHandle['describe']>>;

/** The running copy's progress (the first pending activity that has heartbeated figures), if any. */
export function movingTransfer(description: Description): TransferProgress | undefined {
  for (const activity of description.raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    const transfer = payload ? defaultPayloadConverter.fromPayload<TransferProgress>(payload) : undefined;
    if (transfer && transfer.bytes > 0) return transfer;
  }
  return undefined;
}

/** "45% 45.0 MiB, 120 files, 11.25MB/s": percentage, bytes, files and rate of the copy. */
export function formatTransfer(transfer: TransferProgress): string {
  return `${transfer.percent}% ${formatBytes(transfer.bytes)}, ${transfer.filesTransferred} files, ${transfer.rate || '?/s'}`;
}

/** Asks `query` only when the last answer is older than queryEveryMs or `changed` says the run moved on. */
export function throttledQuery<T>(query: () => Promise<T>, patienceMs = 1_000): (changed: boolean) => Promise<T> {
  let last: { at: number; value: T } | undefined;
  let pending: Promise<T> | undefined;
  return async (changed) => {
    if (last && !changed && Date.now() - last.at < queryEveryMs) return last.value;
    // One query at a time, and the last answer while it is slow (a busy workflow worker): a query that took
    // the whole copy held back every progress line that describe already had.
    pending ??= query()
      .then((value) => {
        last = { at: Date.now(), value };
        return value;
      })
      .finally(() => (pending = undefined));
    void pending.catch(() => undefined);
    if (!last) return pending;
    const previous = last.value;
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(previous), patienceMs)));
    try {
      // A failing query (the workflow worker restarting) keeps the last phase too.
      return await Promise.race([pending.catch(() => previous), patience]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The pending activities' types and attempts: a change means a new step, so the phase is asked again. */
export function activitiesKey(description: Description): string {
  return (description.raw.pendingActivities ?? [])
    .map((activity) => `${activity.activityType?.name ?? ''}#${activity.attempt ?? 1}`)
    .join(',');
}
