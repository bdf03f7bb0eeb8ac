// The worker's sign of life for `--wait` (domain/worker-liveness.ts): a Schedule's note rewritten every few
// seconds while it polls, and "stopped" when it shuts down. Failures are logged and retried at the next beat:
// a missed beat costs a false notice at worst, never a run.
import { Client, ScheduleNotFoundError, type ScheduleOptionsAction } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { serverTaskQueue } from '../domain/names.js';
import { livenessEveryMs, livenessNote, livenessScheduleId, type LivenessNote } from '../domain/worker-liveness.js';

/** Starts the beat; the returned function stops it and writes "stopped". */
export function beatWhileRunning(
  connection: NativeConnection,
  namespace: string,
  server: string,
  worker: string,
  warn: (message: string) => void,
): () => Promise<void> {
  const client = new Client({ connection, namespace });
  const handle = client.schedule.getHandle(livenessScheduleId(server));
  const write = async (state: LivenessNote['state']) => {
    const note = livenessNote({ state, at: new Date().toISOString(), worker });
    try {
      await handle.update((previous) => ({ ...previous, state: { ...previous.state, note } }));
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
      // Paused, no spec: it never starts anything; it only carries the note.
      const action: ScheduleOptionsAction = {
        type: 'startWorkflow',
        workflowType: 'workerLiveness',
        taskQueue: serverTaskQueue(server),
        args: [],
      };
      await client.schedule.create({
        scheduleId: livenessScheduleId(server),
        spec: {},
        action,
        state: { paused: true, note },
      });
    }
  };
  let failing = false;
  const beat = () =>
    write('alive').then(
      () => (failing = false),
      (error: unknown) => {
        if (!failing) warn(`worker liveness note for ${server} not written: ${(error as Error).message}`);
        failing = true;
      },
    );
  let current = beat();
  const timer = setInterval(() => {
    current = current.then(beat);
  }, livenessEveryMs);
  return async () => {
    clearInterval(timer);
    await current;
    await write('stopped').catch(() => undefined);
  };
}
