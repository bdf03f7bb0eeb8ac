// Cron lines through croner (inventory/cron.ts): refused with the field and the fix, read as Temporal
// reads them (day-of-month AND day-of-week), and `tidemark config check` showing each (host, server)'s
// next three starts in the schedule's zone, checked here minute by minute with GNU date, not croner.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { planTiming, type ScheduleSettings } from '../domain/schedule-spec.js';
import { parseInventory } from '../inventory/load.js';
import { upcomingRuns } from '../schedule/next-runs.js';
import type { InventoryReport } from '../client/config-check.js';
import { cliPath } from './helpers/rig.js';

const base = 'servers: { b1: { dataset: data }, b2: { dataset: tank } }\n';

test('an invalid cron line is refused naming the field, the part and what fits', () => {
  const cases: Array<[string, RegExp]> = [
    ['99 99 * * *', /^hosts\.vpn\.schedule\.cron: minute 99 is out of range 0-59, got "99 99 \* \* \*"$/m],
    ['0 99 * * *', /^hosts\.vpn\.schedule\.cron: hour 99 is out of range 0-23/m],
    ['0,60 * * * *', /^hosts\.vpn\.schedule\.cron: minute 60 is out of range 0-59/m],
    ['0 0 0 * *', /day-of-month 0 is out of range 1-31/m],
    ['*/99 * * * *', /minute step in \*\/99 is larger than the range 0-59/m],
    ['0 0 * * FRI-MON', /day-of-week range FRI-MON runs backwards; write the smaller value first/m],
    [
      'MON 3 * * *',
      /"MON" in the minute field is not a value of 0-59, range \(1-5\), list \(1,3\) or step \(\*\/15\)/m,
    ],
    // croner knows these; Temporal does not, so they are refused before a schedule is written.
    ['0 3 L * *', /"L" in the day-of-month field is not a value of 1-31, range/m],
    ['0 3 15W * *', /"15W" in the day-of-month field/m],
    ['0 3 * * 5#2', /"5#2" in the day-of-week field is not a value of 0-7 or SUN-SAT/m],
    ['0 0 31 4,6,9,11 *', /"0 0 31 4,6,9,11 \*" never fires/m],
  ];
  for (const [cron, message] of cases) {
    assert.throws(
      () => parseInventory(`${base}hosts: { vpn: { address: vpn, schedule: { cron: "${cron}" } } }`),
      (error: Error) => (assert.match(error.message, message, cron), true),
    );
  }
  for (const cron of [
    '30 2 * * *',
    '5/15 * * * *',
    '0 0 ? * *',
    '0 3 * JAN-MAR/2 mon-fri',
    '0 0 * * 7',
    '@weekly',
    '0 3 29 2 *',
  ]) {
    assert.doesNotThrow(
      () => parseInventory(`${base}hosts: { vpn: { address: vpn, schedule: { cron: "${cron}" } } }`),
      cron,
    );
  }
});

const settings = (overrides: Partial<ScheduleSettings>): ScheduleSettings => ({
  schedule: 'daily',
  timezone: 'UTC',
  blackout: [],
  enabled: true,
  ...overrides,
});
const plan = (overrides: Partial<ScheduleSettings>) => {
  const result = planTiming('mail', 0, 1, settings(overrides));
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.timing;
};

test('upcoming runs: day-of-month and day-of-week must both match (as in Temporal), blackout skips are left out', () => {
  const from = new Date('2026-01-01T00:00:00Z');
  // Classic cron would fire on every 13th and every Friday; Temporal only on Friday the 13th.
  const fridays13 = upcomingRuns(plan({ schedule: { cron: '0 3 13 * 5' } }), from, 3).map((time) => time.toISOString());
  assert.deepEqual(fridays13, ['2026-02-13T03:00:00.000Z', '2026-03-13T03:00:00.000Z', '2026-11-13T03:00:00.000Z']);

  const skipping = plan({ schedule: { cron: '*/20 * * * *' }, blackout: ['22:00-02:00'] });
  assert.deepEqual(
    upcomingRuns(skipping, new Date('2026-01-01T21:30:00Z'), 3).map((time) => time.toISOString()),
    ['2026-01-01T21:40:00.000Z', '2026-01-02T02:00:00.000Z', '2026-01-02T02:20:00.000Z'],
  );
  assert.deepEqual(upcomingRuns(plan({ enabled: false }), from, 3), [], 'a paused schedule has no next run');

  const every5h = plan({ schedule: { every: '5h' } });
  const [first, second] = upcomingRuns(every5h, from, 2);
  assert.equal(second!.getTime() - first!.getTime(), 5 * 3_600_000);
  assert.equal(
    (first!.getTime() - every5h.intervals[0]!.offsetMs) % (5 * 3_600_000),
    0,
    'counted from the epoch plus the offset, as Temporal does',
  );
});

/** Each time formatted by GNU date (`format` as date's, e.g. "%H:%M") as read in `zone`: the C library's
 * tzdata, neither croner nor Intl. One date process reads them all. */
async function localTimes(times: Date[], zone: string, format: string): Promise<string[]> {
  // date reads an unknown TZ as UTC without a word: make sure the zone is there.
  assert.ok(existsSync(join('/usr/share/zoneinfo', zone)), `tzdata for ${zone}`);
  if (times.length === 0) return [];
  const { stdout } = await execa('date', ['-f', '-', `+${format}`], {
    input: times.map((time) => `@${time.getTime() / 1000}`).join('\n'),
    env: { TZ: zone, LC_ALL: 'C' },
  });
  const lines = stdout.split('\n');
  assert.equal(lines.length, times.length);
  return lines;
}

/** "2026-12-01 22:15 +05:30" as printed by config check. */
function parsePrinted(text: string): Date {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) ([+-]\d{2}:\d{2})$/.exec(text);
  assert.ok(match, `a time with its offset: ${text}`);
  return new Date(`${match[1]}T${match[2]}:00${match[3]}`);
}

test("`tidemark config check` prints each (host, server)'s next three starts, in the schedule's zone, matching the cron line", async () => {
  const dir = mkdtempSync('/tmp/tidemark-cron-');
  const path = join(dir, 'tidemark.yaml');
  writeFileSync(
    path,
    `${base}hosts:\n` +
      '  mail: { address: mail.example.org, schedule: { cron: "15,45 */2 * * 1-5" }, timezone: Asia/Kolkata }\n' +
      '  vpn: { address: vpn.example.org, servers: [b1], timezone: Europe/Amsterdam }\n' +
      '  off: { address: off.example.org, servers: [b2], enabled: false }\n',
  );
  const before = Date.now();
  const result = await execa(process.execPath, [cliPath, '--config', path, 'config', 'check'], { reject: false });
  assert.equal(result.exitCode, 0, result.stderr);

  const lines = result.stdout.split('\n').filter((line) => /^ {4}schedule on /.test(line));
  assert.deepEqual(
    lines.map((line) => line.split(' (zone ')[0]!.trim()),
    ['schedule on b1', 'schedule on b2', 'schedule on b1', 'schedule on b2'],
    result.stdout,
  );
  const mailLine = lines[0]!;
  const match =
    /^ {4}schedule on b1 \(zone Asia\/Kolkata\): cron "15,45 \*\/2 \* \* 1-5" Asia\/Kolkata; next \(Asia\/Kolkata\) (.+)$/.exec(
      mailLine,
    );
  assert.ok(match, mailLine);
  const printed = match[1]!.split(', ');
  assert.equal(printed.length, 3);
  for (const text of printed) assert.match(text, /\+05:30$/, "in the schedule's zone");
  const runs = printed.map(parsePrinted);

  // Every minute from now to the third run, read in Kolkata: exactly the three printed ones match.
  const minutes: Date[] = [];
  for (let time = Math.floor(before / 60_000) * 60_000 + 60_000; time <= runs[2]!.getTime(); time += 60_000)
    minutes.push(new Date(time));
  const kolkata = await localTimes(minutes, 'Asia/Kolkata', '%M %H %a');
  const matches = (local: string) => {
    const [minute, hour, weekday] = local.split(' ');
    return (minute === '15' || minute === '45') && Number(hour) % 2 === 0 && !['Sat', 'Sun'].includes(weekday!);
  };
  const expected = minutes.filter((_, index) => matches(kolkata[index]!)).map((time) => time.getTime());
  assert.deepEqual(
    runs.map((time) => time.getTime()),
    expected,
    `the first three matching minutes after now: ${printed.join(', ')}`,
  );
  assert.ok(runs[0]!.getTime() > before, 'in the future');

  // The daily host: three days in a row at the time its summary names, with the jitter said.
  const vpn =
    /^ {4}schedule on b1 \(zone Europe\/Amsterdam\): daily (\d{2}:\d{2})\+30m Europe\/Amsterdam; next \(Europe\/Amsterdam\) (.+); each start up to 30m later \(jitter\)$/.exec(
      lines[2]!,
    );
  assert.ok(vpn, lines[2]);
  const daily = vpn[2]!.split(', ').map(parsePrinted);
  assert.equal(daily.length, 3);
  assert.deepEqual(await localTimes(daily, 'Europe/Amsterdam', '%H:%M'), [vpn[1], vpn[1], vpn[1]]);
  assert.ok(daily[0]!.getTime() > before && daily[0]!.getTime() <= before + 25 * 3_600_000, 'the first within a day');
  assert.match(
    lines[3]!,
    /^ {4}schedule on b2 \(zone UTC \(default\)\): daily \d{2}:\d{2}\+30m \(disabled\); no runs while enabled: false$/,
  );

  // --json: the same starts as ISO times (the text shows them in the schedule's zone, to the minute).
  const json = await execa(process.execPath, [cliPath, '--config', path, 'config', 'check', '--json']);
  const report = JSON.parse(json.stdout) as InventoryReport;
  assert.equal(report.path, path);
  assert.deepEqual(
    report.hosts.map((host) => [host.name, host.servers]),
    [
      ['mail', ['b1', 'b2']],
      ['vpn', ['b1']],
      ['off', ['b2']],
    ],
  );
  const mailOnB1 = report.hosts[0]!.schedules[0]!;
  assert.ok(!('error' in mailOnB1) && mailOnB1.server === 'b1');
  assert.deepEqual(
    mailOnB1.next.map((time) => Date.parse(time)),
    runs.map((time) => time.getTime()),
  );
  const offOnB2 = report.hosts[2]!.schedules[0]!;
  assert.ok(!('error' in offOnB2) && offOnB2.enabled === false);
  assert.deepEqual(offOnB2.next, []);
  // One zone per host for the schedule and retention, shown on both lines (the issue: retention silently UTC).
  assert.equal(report.hosts[1]!.retention.timeZone, 'Europe/Amsterdam');
  assert.deepEqual(report.hosts[1]!.timezone, {
    schedule: 'Europe/Amsterdam',
    retention: 'Europe/Amsterdam',
    fromDefault: false,
  });
  assert.deepEqual(report.hosts[2]!.timezone, { schedule: 'UTC', retention: 'UTC', fromDefault: true });
  assert.match(result.stdout, /\n {2}vpn: .*\n {4}retention \(zone Europe\/Amsterdam\): /);
  assert.match(result.stdout, /\n {2}off: .*\n {4}retention \(zone UTC \(default\)\): /);
});
