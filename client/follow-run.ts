// The loop behind `start-backup --wait` and `restore --wait`: one line of progress on stderr (rewritten on a
// terminal), until the run's result is in.
import type { WorkflowHandle } from '@temporalio/client';
import type { TransferProgress } from '../domain/backup.js';
import { activitiesKey, pollWhileMovingMs, throttledQuery } from './transfer-progress.js';

type Description = Awaited<ReturnType<WorkflowHandle['describe']>>;

/** What one look at the run shows: the line, its key (the line without the parts that change every second),
 * and the copy's figures while data moves. */
export interface RunView {
  line: string;
  key: string;
  moving?: TransferProgress;
}

/** How often the run is looked at while no data moves: every second on a terminal (a live line); for a log,
 * whose lines come on a change of phase or every 30 s, every 2 s (Temporal only: the worker is asked at
 * most every 5 s). While a step runs, every second either way,
 * and a log gets a line whenever the figures changed (at most one a second): files, bytes, rate and
 * percentage at least every 2 s. */
const idlePollMs = { terminal: 1_000, log: 2_000 };
const idleLogEveryMs = 30_000;
/** Under the poll period, so that a poll landing a few ms early still prints (else the next line comes 2 s on). */
const movingLogEveryMs = 750;

export async function followRun<P, R>(
  run: WorkflowHandle,
  query: () => Promise<P>,
  view: (progress: P, description: Description) => RunView,
): Promise<R> {
  const result = run.result() as Promise<R>;
  let done = false;
  result.then(
    () => (done = true),
    () => (done = true),
  );
  const terminal = process.stderr.isTTY === true;
  const phase = throttledQuery(query);
  let last: RunView = { line: '', key: '' };
  let lastActivities = '';
  let lastLogged = 0;
  while (!done) {
    const looked = await look(run, phase, lastActivities, view).catch(() => undefined);
    const now = looked?.view ?? last;
    if (looked) lastActivities = looked.activities;
    const figuresChanged = now.moving !== undefined && JSON.stringify(now.moving) !== JSON.stringify(last.moving);
    const due = terminal
      ? now.line !== last.line
      : now.key !== last.key ||
        (figuresChanged && Date.now() - lastLogged >= movingLogEveryMs) ||
        Date.now() - lastLogged >= idleLogEveryMs;
    if (due && now.line) {
      process.stderr.write(terminal ? `\r\x1b[2K${now.line}` : `${now.line}\n`);
      last = now;
      lastLogged = Date.now();
    }
    // A step running (a copy may start moving any moment) is looked at every second too.
    const busy = now.moving !== undefined || lastActivities !== '';
    const pause = busy ? pollWhileMovingMs : terminal ? idlePollMs.terminal : idlePollMs.log;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, pause)))]);
    clearTimeout(timer);
  }
  if (terminal && last.line) process.stderr.write('\n');
  return result;
}

/** The run's description from Temporal, and its phase from the worker only when due (see throttledQuery). */
async function look<P>(
  run: WorkflowHandle,
  phase: (changed: boolean) => Promise<P>,
  lastActivities: string,
  view: (progress: P, description: Description) => RunView,
): Promise<{ view: RunView; activities: string }> {
  const description = await run.describe();
  const activities = activitiesKey(description);
  const progress = await phase(activities !== lastActivities);
  return { view: view(progress, description), activities };
}
