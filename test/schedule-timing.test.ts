// Blackout windows and time zones hold in the next-run times Temporal itself computes (describe), jitter
// included; servers of one host run hours apart. The next runs `config check` prints
// (schedule/next-runs.ts, croner) are the ones Temporal computes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { parseBlackout } from '../domain/schedule-spec.js';
import { parseInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/schema.js';
import { backupScheduleId, hostTimings } from '../schedule/desired.js';
import { upcomingRuns } from '../schedule/next-runs.js';
import { createSandbox, type Sandbox } from './helpers/schedules.js';

let box: Sandbox;
let s1: string;
let s2: string;
let inventory: Inventory;

/** Host → [time zone, blackout windows, schedule fields]. */
const cases: Record<string, { timezone: string; blackout: string[]; extra?: Record<string, unknown> }> = {
  'daily-ams': { timezone: 'Europe/Amsterdam', blackout: ['09:00-17:00'] },
  'daily-wrap-london': { timezone: 'Europe/London', blackout: ['20:00-08:00'] },
  'hourly-nyc': {
    timezone: 'America/New_York',
    blackout: ['22:00-06:00'],
    extra: { schedule: 'hourly', jitter: '10m' },
  },
  'every5h-tokyo': {
    timezone: 'Asia/Tokyo',
    blackout: ['09:00-17:00'],
    extra: { schedule: { every: '5h' }, jitter: '20m' },
  },
  'every30m-lordhowe': {
    timezone: 'Australia/Lord_Howe',
    blackout: ['01:00-05:00', '12:30-13:30'],
    extra: { schedule: { every: '30m' } },
  },
  'cron-utc': {
    timezone: 'UTC',
    blackout: ['00:00-08:00', '12:00-13:00'],
    extra: { schedule: { cron: '*/20 * * * *' }, jitter: '5m' },
  },
  'cron-kolkata': { timezone: 'Asia/Kolkata', blackout: ['09:00-18:00'], extra: { schedule: { cron: '15 * * * *' } } },
};
/** Plus 20 plain daily hosts in Amsterdam, to see many start times and the spread between servers. */
const dailyFleet = Array.from({ length: 20 }, (_, i) => `fleet${String(i).padStart(2, '0')}`);

before(async () => {
  box = await createSandbox('timing');
  s1 = box.server('s1');
  s2 = box.server('s2');
  const hosts: Record<string, Record<string, unknown>> = {};
  let n = 1;
  for (const [host, spec] of Object.entries(cases))
    hosts[host] = { address: `10.4.0.${n++}`, timezone: spec.timezone, blackout: spec.blackout, ...spec.extra };
  for (const host of dailyFleet) hosts[host] = { address: `10.4.1.${n++}` };
  const settings = {
    servers: { [s1]: { dataset: 'data' }, [s2]: { dataset: 'data2' } },
    sync: { enabled: false },
    defaults: { timezone: 'Europe/Amsterdam', blackout: ['09:00-17:00'] },
    hosts,
  };
  inventory = parseInventory(stringify(settings));
  const report = await box.sync(settings);
  assert.deepEqual(report.errors, []);
  assert.equal(report.created, 2 * (Object.keys(cases).length + dailyFleet.length));
});
after(() => box.close());

/** Minute of the day of `at` on the wall clock of `zone`. */
function wallMinute(at: Date, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return part('hour') * 60 + part('minute');
}

function inWindow(minute: number, text: string): boolean {
  const window = parseBlackout(text)!;
  return window.end > window.start
    ? minute >= window.start && minute < window.end
    : minute >= window.start || minute < window.end;
}

async function nextRuns(host: string, server: string): Promise<Date[]> {
  return (await box.client.schedule.getHandle(backupScheduleId(host, server)).describe()).info.nextActionTimes;
}

test("next runs computed by Temporal fall outside every blackout window, in the schedule's time zone", async () => {
  for (const [host, spec] of Object.entries(cases)) {
    for (const server of [s1, s2]) {
      const runs = await nextRuns(host, server);
      assert.ok(runs.length >= 5, `${host}@${server}: ${runs.length} future runs listed`);
      for (const run of runs) {
        const minute = wallMinute(run, spec.timezone);
        for (const window of spec.blackout) {
          assert.ok(
            !inWindow(minute, window),
            `${host}@${server} runs at ${run.toISOString()} = ${Math.floor(minute / 60)}:${String(minute % 60).padStart(2, '0')} ${spec.timezone}, inside ${window}`,
          );
        }
      }
    }
  }
});

test('hourly with a night blackout in New York: up to 16 runs a day, none 22:00-06:00 local', async () => {
  const description = await box.client.schedule.getHandle(backupScheduleId('hourly-nyc', s1)).describe();
  assert.equal(description.spec.timezone, 'America/New_York');
  const hours = new Set(
    description.spec.calendars!.flatMap((calendar) =>
      calendar.hour.flatMap((range) => Array.from({ length: range.end - range.start + 1 }, (_, i) => range.start + i)),
    ),
  );
  assert.ok(hours.size === 15 || hours.size === 16, `${hours.size} hours`);
  for (const hour of hours) assert.ok(hour >= 6 && hour < 22, `hour ${hour}`);
  assert.equal(description.spec.jitter, 600_000);
  assert.equal(description.policies.catchupWindow, 3_600_000);
});

test("the daily fleet starts at spread-out times, and a host's two servers are hours apart", async () => {
  const starts = new Set<number>();
  for (const host of dailyFleet) {
    const [a] = await nextRuns(host, s1);
    const [b] = await nextRuns(host, s2);
    const ma = wallMinute(a!, 'Europe/Amsterdam');
    const mb = wallMinute(b!, 'Europe/Amsterdam');
    starts.add(Math.floor(ma / 60));
    const gap = Math.abs(ma - mb);
    assert.ok(Math.min(gap, 1440 - gap) >= 6 * 60, `${host}: ${ma} and ${mb} minutes are less than 6h apart`);
    for (const minute of [ma, mb]) assert.ok(!inWindow(minute, '09:00-17:00'), `${host} at minute ${minute}`);
  }
  assert.ok(starts.size >= 8, `20 hosts start in ${starts.size} different hours`);
});

test('the next runs config check prints are those Temporal computes: equal without jitter, at most the jitter earlier', async () => {
  for (const host of [...Object.keys(cases), ...dailyFleet.slice(0, 3)]) {
    for (const { server, timing } of hostTimings(inventory, host)) {
      assert.ok(timing.ok, host);
      const { jitterMs } = timing.timing;
      const temporal = await nextRuns(host, server);
      assert.ok(temporal.length >= 5, `${host}@${server}: ${temporal.length} runs listed`);
      // From just before Temporal's first (jittered) run: the nominal start it belongs to comes first.
      const ours = upcomingRuns(timing.timing, new Date(temporal[0]!.getTime() - jitterMs - 1), temporal.length);
      const pairs = temporal.map((time, index) => `${ours[index]?.toISOString()} ≤ ${time.toISOString()}`).join(', ');
      temporal.forEach((time, index) => {
        const nominal = ours[index]!.getTime();
        assert.ok(
          nominal <= time.getTime() && time.getTime() <= nominal + jitterMs,
          `${host}@${server} (${timing.timing.summary}, jitter ${jitterMs} ms): ${pairs}`,
        );
      });
    }
  }
});
