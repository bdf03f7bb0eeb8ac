// Blackout hours hold for retries: a host that is down when its backup starts is tried again only after the
// host's blackout window has ended, not inside it (issue 22). Real sshd, rsync, zfs-fuse, Temporal and worker.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { backupWorkflowId } from '../domain/names.js';
import { waitFor } from '../devenv/process.js';
import { createRig, type Rig } from './helpers/rig.js';

/** "HH:MM" in UTC, `minutes` from now. */
function clock(minutes: number): string {
  return new Date(Date.now() + minutes * 60_000).toISOString().slice(11, 16);
}

let rig: Rig;
/** When the window that covers the start of the run ends (the next full minute after its "HH:MM" end). */
let windowEnd: Date;
before(async () => {
  // From this minute to two minutes on: the run's first attempt fails inside it; the retry would come 1 s later.
  const window = `${clock(0)}-${clock(2)}`;
  windowEnd = new Date(Date.now() + 2 * 60_000);
  windowEnd.setUTCSeconds(0, 0);
  rig = await createRig('blackout', { host: { blackout: [window] } });
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc', 'hostname'), 'demo-host\n');
  await rig.startWorker();
});
after(() => rig?.close());

test(
  'a retry that falls due inside the blackout window waits until the window ends',
  { timeout: 300_000 },
  async () => {
    await rig.host.stop();
    const run = rig.cli(['start-backup', '--host', rig.hostName, '--wait'], { timeoutMs: 280_000 });
    // The host comes back once the first probe has failed (not after a fixed pause: on a loaded machine the
    // run may reach its probe only after it), long before the window ends: only the blackout keeps the
    // retry waiting.
    const handle = rig.client.workflow.getHandle(backupWorkflowId(rig.hostName, rig.server));
    await waitFor(
      'the first probe attempt failing',
      async () =>
        (await handle.describe()).raw.pendingActivities?.some(
          (activity) => activity.activityType?.name === 'probeHost' && activity.lastFailure,
        ) ?? false,
      120_000,
    );
    await rig.host.start();
    const result = await run;
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);

    const history = await handle.fetchHistory();
    const scheduled = new Set<string>();
    const probeStarts: { attempt: number; at: Date; lastFailure: string }[] = [];
    for (const event of history.events ?? []) {
      if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'probeHost')
        scheduled.add(String(event.eventId));
      const start = event.activityTaskStartedEventAttributes;
      if (start && scheduled.has(String(start.scheduledEventId))) {
        probeStarts.push({
          attempt: start.attempt ?? 1,
          at: new Date(Number(event.eventTime?.seconds ?? 0) * 1000),
          lastFailure: start.lastFailure?.message ?? '',
        });
      }
    }
    // Temporal records the final attempt's start, with the failure of the one before it.
    assert.equal(probeStarts.length, 1, JSON.stringify(probeStarts));
    const [probe] = probeStarts;
    assert.equal(probe!.attempt, 2);
    assert.match(probe!.lastFailure, /Connection refused.*; attempt 2 waits for the blackout window \S+ to end/);
    assert.ok(
      probe!.at.getTime() >= windowEnd.getTime() - 1_000,
      `attempt 2 started at ${probe!.at.toISOString()}, inside the window ending ${windowEnd.toISOString()}`,
    );
  },
);
