// Pure cadence logic: schedule shapes, blackout windows, server spreading, inventory fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  groupMinutes,
  parseBlackout,
  planTiming,
  type BackupTiming,
  type CalendarRule,
  type ScheduleSettings,
} from '../domain/schedule-spec.js';
import { parseInventory } from '../inventory/load.js';
import { parseScheduleText } from '../inventory/netbox.js';
import { resolveSchedule } from '../inventory/resolve.js';
import { desiredBackupSchedules, specHash } from '../schedule/desired.js';
import { suspiciousDrop } from '../schedule/reconcile.js';

const settings = (overrides: Partial<ScheduleSettings> = {}): ScheduleSettings => ({
  schedule: 'daily',
  timezone: 'UTC',
  blackout: [],
  enabled: true,
  ...overrides,
});

function timing(host: string, index: number, count: number, overrides: Partial<ScheduleSettings> = {}): BackupTiming {
  const result = planTiming(host, index, count, settings(overrides));
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.timing;
}

/** Every start minute of the day a set of calendar rules matches. */
function minutesOf(rules: CalendarRule[]): number[] {
  const out: number[] = [];
  for (const rule of rules)
    for (const hours of rule.hours)
      for (let h = hours.start; h <= hours.end; h++)
        for (const minutes of rule.minutes) for (let m = minutes.start; m <= minutes.end; m++) out.push(h * 60 + m);
  return out.sort((a, b) => a - b);
}

function inBlackout(minute: number, window: { start: number; end: number }): boolean {
  const m = ((minute % 1440) + 1440) % 1440;
  return window.end > window.start ? m >= window.start && m < window.end : m >= window.start || m < window.end;
}

test('blackout windows parse as [start, end) minutes, wrapping midnight; nonsense is refused', () => {
  assert.deepEqual(parseBlackout('09:00-17:00'), { start: 540, end: 1020 });
  assert.deepEqual(parseBlackout('9-17'), { start: 540, end: 1020 });
  assert.deepEqual(parseBlackout('22:30-06:00'), { start: 1350, end: 360 });
  assert.deepEqual(parseBlackout('18:00-24:00'), { start: 1080, end: 1440 });
  for (const bad of ['9', '25:00-26:00', '09:00-09:00', '09:60-10:00', 'nine-five', '00:00-24:00'])
    assert.equal(parseBlackout(bad), undefined, bad);
});

test('daily: one start a day, deterministic, and two servers of one host are hours apart', () => {
  const a = timing('vpn', 0, 2);
  const b = timing('vpn', 1, 2);
  assert.deepEqual(timing('vpn', 0, 2), a, 'same input, same timing');
  const [startA] = minutesOf(a.calendars);
  const [startB] = minutesOf(b.calendars);
  assert.equal(minutesOf(a.calendars).length, 1);
  const gap = Math.abs(startA! - startB!);
  assert.ok(Math.min(gap, 1440 - gap) >= 8 * 60, `servers ${startA} and ${startB} minutes are spread apart`);
  assert.equal(a.jitterMs, 30 * 60_000, 'default jitter of a daily run is 30m');
  assert.equal(a.catchupWindowMs, 86_400_000);
  assert.match(a.summary, /^daily \d\d:\d\d\+30m$/);
});

test('hosts spread over the day: 500 hosts land in every hour', () => {
  const hours = new Set<number>();
  for (let i = 0; i < 500; i++) hours.add(Math.floor(minutesOf(timing(`host-${i}`, 0, 1).calendars)[0]! / 60));
  assert.equal(hours.size, 24);
});

test('property: no start plus its jitter ever touches a blackout window (daily, hourly, every N)', () => {
  const window = fc.record({ start: fc.integer({ min: 0, max: 23 }), length: fc.integer({ min: 1, max: 14 }) });
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.constantFrom<ScheduleSettings['schedule']>(
        'daily',
        'hourly',
        { every: '2h' },
        { every: '30m' },
        { every: '6h' },
      ),
      fc.array(window, { minLength: 1, maxLength: 2 }),
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 1, max: 3 }),
      (host, schedule, windows, jitterMinutes, servers) => {
        const blackout = windows.map((w) => `${w.start}:00-${(w.start + w.length) % 24}:00`);
        const intervalMinutes =
          schedule === 'daily'
            ? 1440
            : schedule === 'hourly'
              ? 60
              : typeof schedule === 'object' && 'every' in schedule
                ? schedule.every === '2h'
                  ? 120
                  : schedule.every === '30m'
                    ? 30
                    : 360
                : 0;
        if (jitterMinutes >= intervalMinutes) return;
        for (let index = 0; index < servers; index++) {
          const result = planTiming(
            host,
            index,
            servers,
            settings({ schedule, blackout, jitter: `${jitterMinutes}m` }),
          );
          if (!result.ok) {
            assert.match(result.error, /leaves no start time/);
            continue;
          }
          for (const start of minutesOf(result.timing.calendars)) {
            for (const text of blackout) {
              const w = parseBlackout(text)!;
              for (let offset = 0; offset < Math.max(1, jitterMinutes); offset++)
                assert.ok(!inBlackout(start + offset, w), `${start}+${offset} in ${text}`);
            }
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('hourly with a blackout drops the blacked-out hours; every 5h and cron become skips', () => {
  const hourly = timing('web', 0, 1, { schedule: 'hourly', blackout: ['09:00-17:00'] });
  const starts = minutesOf(hourly.calendars);
  assert.ok(starts.length >= 15 && starts.length <= 16, `${starts.length} runs a day`);
  assert.ok(starts.every((m) => m < 9 * 60 - 6 || m >= 17 * 60));
  assert.equal(hourly.jitterMs, 6 * 60_000);
  assert.equal(hourly.catchupWindowMs, 3_600_000, 'catch-up window = one interval: an outage yields one run');

  const five = timing('db', 0, 1, { schedule: { every: '5h' }, blackout: ['09:00-17:00'], jitter: '10m' });
  assert.equal(five.intervals.length, 1);
  assert.equal(five.intervals[0]!.everyMs, 5 * 3_600_000);
  const skipped = minutesOf(five.skip);
  assert.equal(skipped[0], 9 * 60 - 9, 'a start at 08:51 could run into 09:00 with 10m jitter');
  assert.equal(skipped.at(-1), 17 * 60 - 1);

  const cron = timing('mail', 0, 1, { schedule: { cron: '*/20 * * * *' }, blackout: ['22:00-02:00'] });
  assert.deepEqual(cron.cron, ['*/20 * * * *']);
  assert.equal(cron.jitterMs, 0, 'no default jitter for cron');
  assert.deepEqual(
    minutesOf(cron.skip),
    [...Array.from({ length: 120 }, (_, i) => 1320 + i), ...Array.from({ length: 120 }, (_, i) => i)].sort(
      (a, b) => a - b,
    ),
  );
});

test('impossible settings are explained, not guessed around', () => {
  const cases: Array<[Partial<ScheduleSettings>, RegExp]> = [
    [{ blackout: ['00:00-12:00', '12:00-24:00'] }, /leaves no start time/],
    [{ schedule: 'hourly', jitter: '1h' }, /jitter 1h must be shorter than the interval 1h/],
    [{ schedule: { every: '90s' } }, /whole minutes/],
    [{ blackout: ['lunch'] }, /blackout "lunch"/],
  ];
  for (const [overrides, message] of cases) {
    const result = planTiming('x', 0, 1, settings(overrides));
    assert.ok(!result.ok);
    assert.match(result.error, message);
  }
});

test('groupMinutes folds hours with the same minutes into one rule', () => {
  assert.deepEqual(groupMinutes([5, 65, 125, 185, 1385], false), [
    {
      hours: [
        { start: 0, end: 3 },
        { start: 23, end: 23 },
      ],
      minutes: [{ start: 5, end: 5 }],
      anySecond: false,
    },
  ]);
});

test('inventory: schedule fields validate with messages naming the fix; defaults are inherited', () => {
  const base = 'servers: { b1: { dataset: data }, b2: { dataset: tank } }\n';
  const inventory = parseInventory(
    `${base}defaults: { schedule: hourly, timezone: Europe/Amsterdam, blackout: ["09:00-17:00"], jitter: 5m }\nhosts:\n  vpn: { address: vpn.example.org }\n  db: { address: db.example.org, schedule: { every: 6h }, enabled: false }\n  mail: { address: mail.example.org, schedule: { cron: "30 2 * * *" }, timezone: UTC }\n`,
  );
  assert.deepEqual(resolveSchedule(inventory, 'vpn'), {
    schedule: 'hourly',
    jitter: '5m',
    timezone: 'Europe/Amsterdam',
    blackout: ['09:00-17:00'],
    enabled: true,
  });
  assert.deepEqual(resolveSchedule(inventory, 'db').schedule, { every: '6h' });
  assert.equal(resolveSchedule(inventory, 'db').enabled, false);
  assert.equal(resolveSchedule(inventory, 'mail').timezone, 'UTC');
  assert.deepEqual(resolveSchedule(parseInventory(`${base}hosts: { x: { address: x } }`), 'x'), {
    schedule: 'daily',
    timezone: 'UTC',
    blackout: [],
    enabled: true,
  });

  const bad: Array<[string, RegExp]> = [
    [
      'schedule: weekly',
      /hosts\.vpn\.schedule: expected daily, hourly, \{ every: "6h" \} or \{ cron: "30 2 \* \* \*" \}/,
    ],
    ['schedule: { every: 90s }', /hosts\.vpn\.schedule\.every: expected whole minutes/],
    ['schedule: { cron: "* *" }', /hosts\.vpn\.schedule\.cron: expected 5 fields/],
    ['timezone: Mars/Olympus', /hosts\.vpn\.timezone: expected an IANA time zone/],
    ['blackout: ["9am-5pm"]', /hosts\.vpn\.blackout\.0: expected a window such as "09:00-17:00"/],
    ['jitter: soon', /hosts\.vpn\.jitter: expected a duration such as "30m"/],
    ['enabled: "no"', /hosts\.vpn\.enabled: expected true or false/],
  ];
  for (const [field, message] of bad) {
    assert.throws(
      () => parseInventory(`${base}hosts: { vpn: { address: vpn, ${field} } }`),
      (error: Error) => {
        assert.match(error.message, message);
        return true;
      },
    );
  }
  assert.throws(
    () => parseInventory(`${base}netbox: { url: "http://127.0.0.1:1" }\nhosts: {}`),
    /netbox: set tokenFile or tokenEnv/,
  );
});

test('desired schedules: one per (host, server), ids and hashes stable, a host error leaves the others', () => {
  const inventory = parseInventory(
    'servers: { b1: { dataset: data }, b2: { dataset: tank } }\nhosts:\n  vpn: { address: vpn }\n  web: { address: web, servers: [b2] }\n  bad: { address: bad, blackout: ["00:00-23:45"] }\n',
  );
  const first = desiredBackupSchedules(inventory);
  assert.deepEqual(
    first.schedules.map((s) => s.scheduleId),
    ['tidemark:backup:vpn@b1', 'tidemark:backup:vpn@b2', 'tidemark:backup:web@b2'],
  );
  assert.equal(first.errors.length, 1);
  assert.match(first.errors[0]!.message, /hosts\.bad: blackout .* leaves no start time/);
  assert.deepEqual(
    desiredBackupSchedules(inventory).schedules.map((s) => s.hash),
    first.schedules.map((s) => s.hash),
  );
  assert.equal(
    specHash({ b: 1, a: [1, { d: 2, c: 3 }] }),
    specHash({ a: [1, { c: 3, d: 2 }], b: 1 }),
    'hash ignores key order',
  );
  const action = first.schedules[0]!.options.action;
  assert.equal(action.workflowType, 'scheduledBackup');
  assert.equal(first.schedules[0]!.options.policies?.overlap, 'SKIP');
});

test('NetBox schedule text fields and the suspicious-drop rule', () => {
  assert.equal(parseScheduleText('daily'), 'daily');
  assert.deepEqual(parseScheduleText('every 6h'), { every: '6h' });
  assert.deepEqual(parseScheduleText('6h'), { every: '6h' });
  assert.deepEqual(parseScheduleText('cron 30 2 * * *'), { cron: '30 2 * * *' });
  assert.deepEqual(parseScheduleText('30 2 * * 1-5'), { cron: '30 2 * * 1-5' });
  assert.equal(parseScheduleText(''), undefined);
  assert.equal(suspiciousDrop(100, 100), 'the inventory lists no hosts where 100 had schedules');
  assert.match(suspiciousDrop(100, 51) ?? '', /51 of 100 hosts/);
  assert.equal(suspiciousDrop(100, 50), undefined);
  assert.equal(suspiciousDrop(3, 2), undefined, 'small fleets may shrink by half');
  assert.equal(suspiciousDrop(1, 1), undefined);
  assert.ok(suspiciousDrop(2, 2));
});
