// Retention semantics pinned against hand-worked examples.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkDestroySafety,
  planRetention,
  type AdoptOptions,
  type RetentionPolicy,
  type RetentionSnapshot,
} from '../domain/retention.js';

/** A snapshot named `name`; zfs creation time from the Tidemark name when not given. */
function snap(name: string, createdAtIso?: string, holds = 0): RetentionSnapshot {
  const stamp = /(\d{8}T\d{6}Z)/.exec(name)?.[1];
  const iso =
    createdAtIso ??
    (stamp
      ? stamp.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z')
      : '2026-01-01T00:00:00Z');
  return { name, createdAt: Date.parse(iso) / 1000, holds };
}
const tm = (compact: string) => `tidemark-${compact}`;
const now = Date.parse('2026-11-23T12:00:00Z');

function plan(
  snapshots: RetentionSnapshot[],
  policy: Partial<RetentionPolicy>,
  options: { adopt?: AdoptOptions; backupSucceeded?: boolean; now?: number } = {},
) {
  return planRetention({
    snapshots,
    policy: { timeZone: 'UTC', ...policy },
    now: options.now ?? now,
    backupSucceeded: options.backupSucceeded ?? true,
    adopt: options.adopt ?? {},
  });
}
const kept = (p: ReturnType<typeof plan>) => p.verdicts.filter((v) => v.keep).map((v) => v.name);
const reasonsOf = (p: ReturnType<typeof plan>, name: string) => p.verdicts.find((v) => v.name === name)?.reasons;
/** Each snapshot's first keep reason, oldest first (undefined: destroyed). */
const firstReasons = (p: ReturnType<typeof plan>) => p.verdicts.map((v) => v.reasons[0]);

/** One snapshot a day at 02:00 UTC, 2025-11-24 .. 2026-11-23 (365 snapshots). */
function dailyYear(): RetentionSnapshot[] {
  const snapshots: RetentionSnapshot[] = [];
  for (let t = Date.parse('2025-11-24T02:00:00Z'); t <= Date.parse('2026-11-23T02:00:00Z'); t += 86_400_000) {
    snapshots.push(snap(tm(new Date(t).toISOString().replace(/[-:]/g, '').replace('.000', ''))));
  }
  return snapshots;
}

test('a year of daily snapshots with {daily 7, weekly 4, monthly 12, yearly 3} in UTC', () => {
  const snapshots = dailyYear();
  assert.equal(snapshots.length, 365);
  const p = plan(snapshots, { daily: 7, weekly: 4, monthly: 12, yearly: 3 });
  assert.deepEqual(kept(p), [
    'tidemark-20251231T020000Z', // monthly 2025-12, yearly 2025 (2025-11 is the 13th month: gone)
    'tidemark-20260131T020000Z',
    'tidemark-20260228T020000Z',
    'tidemark-20260331T020000Z',
    'tidemark-20260430T020000Z',
    'tidemark-20260531T020000Z',
    'tidemark-20260630T020000Z',
    'tidemark-20260731T020000Z',
    'tidemark-20260831T020000Z',
    'tidemark-20260930T020000Z',
    'tidemark-20261031T020000Z',
    'tidemark-20261108T020000Z', // weekly 2026-W45 (Sunday, end of the ISO week)
    'tidemark-20261115T020000Z', // weekly 2026-W46
    'tidemark-20261117T020000Z', // daily x7 from here
    'tidemark-20261118T020000Z',
    'tidemark-20261119T020000Z',
    'tidemark-20261120T020000Z',
    'tidemark-20261121T020000Z',
    'tidemark-20261122T020000Z', // also weekly 2026-W47
    'tidemark-20261123T020000Z', // a Monday: weekly 2026-W48, monthly 2026-11, yearly 2026, newest
  ]);
  assert.equal(p.destroy.length, 345);
  assert.equal(p.destroy[0], 'tidemark-20251124T020000Z');
  assert.ok(p.destroy.includes('tidemark-20251130T020000Z'));
  assert.deepEqual(reasonsOf(p, 'tidemark-20261123T020000Z'), [
    'daily 2026-11-23',
    'weekly 2026-W48',
    'monthly 2026-11',
    'yearly 2026',
    'newest complete',
  ]);
  assert.deepEqual(reasonsOf(p, 'tidemark-20261122T020000Z'), ['daily 2026-11-22', 'weekly 2026-W47']);
  assert.deepEqual(reasonsOf(p, 'tidemark-20261108T020000Z'), ['weekly 2026-W45']);
  assert.deepEqual(reasonsOf(p, 'tidemark-20261031T020000Z'), ['monthly 2026-10']);
  assert.deepEqual(reasonsOf(p, 'tidemark-20251231T020000Z'), ['monthly 2025-12', 'yearly 2025']);
  assert.deepEqual(reasonsOf(p, 'tidemark-20261116T020000Z'), []);
  assert.ok(p.verdicts.every((v) => v.kind === 'complete'));
});

test('the same year with weeks starting on Sunday keeps other weekly snapshots', () => {
  const p = plan(dailyYear(), { daily: 7, weekly: 4, monthly: 12, yearly: 3, weekStartsOn: 0 });
  const weekly = p.verdicts.filter((v) => v.reasons.some((r) => r.startsWith('weekly'))).map((v) => v.name);
  // Sunday weeks: 11-22..28, 11-15..21, 11-08..14, 11-01..07 (each named after its Wednesday's year week).
  assert.deepEqual(weekly, [
    'tidemark-20261107T020000Z',
    'tidemark-20261114T020000Z',
    'tidemark-20261121T020000Z',
    'tidemark-20261123T020000Z',
  ]);
  assert.deepEqual(reasonsOf(p, 'tidemark-20261121T020000Z'), ['daily 2026-11-21', 'weekly 2026-W46']);
  assert.deepEqual(reasonsOf(p, 'tidemark-20261107T020000Z'), ['weekly 2026-W44']);
  assert.ok(p.destroy.includes('tidemark-20261108T020000Z'));
});

test('week start day decides which snapshots share a week', () => {
  // Fri 20, Sat 21, Sun 22, Mon 23 November 2026.
  const snapshots = ['20261120T020000Z', '20261121T020000Z', '20261122T020000Z', '20261123T020000Z'].map((s) =>
    snap(tm(s)),
  );
  const keptWith = (weekStartsOn?: number) =>
    kept(plan(snapshots, weekStartsOn === undefined ? { weekly: 2 } : { weekly: 2, weekStartsOn }));
  assert.deepEqual(keptWith(), [tm('20261122T020000Z'), tm('20261123T020000Z')]); // default Monday
  assert.deepEqual(keptWith(1), [tm('20261122T020000Z'), tm('20261123T020000Z')]);
  assert.deepEqual(keptWith(0), [tm('20261121T020000Z'), tm('20261123T020000Z')]); // Sunday
  assert.deepEqual(keptWith(6), [tm('20261120T020000Z'), tm('20261123T020000Z')]); // Saturday
});

test('a day is the calendar date in the policy zone: 23:30 UTC is tomorrow in Amsterdam', () => {
  const snapshots = ['20261120T223000Z', '20261120T233000Z', '20261121T120000Z'].map((s) => snap(tm(s)));
  const amsterdam = plan(snapshots, { daily: 2, timeZone: 'Europe/Amsterdam' });
  assert.deepEqual(amsterdam.destroy, [tm('20261120T233000Z')]);
  assert.deepEqual(reasonsOf(amsterdam, tm('20261120T223000Z')), ['daily 2026-11-20']);
  assert.deepEqual(reasonsOf(amsterdam, tm('20261121T120000Z')), ['daily 2026-11-21', 'newest complete']);
  assert.deepEqual(plan(snapshots, { daily: 2 }).destroy, [tm('20261120T223000Z')]);
  // Lord Howe in summer is UTC+11: 13:00 UTC is already the next day.
  const lordHowe = [snap(tm('20261120T125900Z')), snap(tm('20261120T130000Z'))];
  assert.deepEqual(firstReasons(plan(lordHowe, { daily: 2, timeZone: 'Australia/Lord_Howe' })), [
    'daily 2026-11-20',
    'daily 2026-11-21',
  ]);
});

test('DST: the repeated hour is one hourly period, the 25-hour day one daily period', () => {
  // Amsterdam, 2026-10-25: 03:00 CEST (01:00 UTC) falls back to 02:00 CET.
  const hours = ['20261024T234500Z', '20261025T003000Z', '20261025T013000Z'].map((s) => snap(tm(s))); // local 01:45, 02:30, 02:30
  const amsterdam = plan(hours, { hourly: 2, timeZone: 'Europe/Amsterdam' });
  assert.deepEqual(amsterdam.destroy, [tm('20261025T003000Z')]);
  assert.deepEqual(reasonsOf(amsterdam, tm('20261024T234500Z')), ['hourly 2026-10-25T01']);
  assert.deepEqual(reasonsOf(amsterdam, tm('20261025T013000Z')), ['hourly 2026-10-25T02', 'newest complete']);
  assert.deepEqual(plan(hours, { hourly: 2 }).destroy, [tm('20261024T234500Z')]);

  // Local 23:59 on the 24th, 00:00 and 23:59 on the 25th (25 hours apart), 00:00 on the 26th.
  const days = ['20261024T215900Z', '20261024T220000Z', '20261025T225900Z', '20261025T230000Z'].map((s) => snap(tm(s)));
  const daily = plan(days, { daily: 3, timeZone: 'Europe/Amsterdam' });
  assert.deepEqual(daily.destroy, [tm('20261024T220000Z')]);
  assert.deepEqual(firstReasons(daily), ['daily 2026-10-24', undefined, 'daily 2026-10-25', 'daily 2026-10-26']);

  // New York springs forward on 2026-03-08 (02:00 EST -> 03:00 EDT): 06:59 and 07:00 UTC are local 01:59 and 03:00.
  const spring = [snap(tm('20260308T065900Z')), snap(tm('20260308T070000Z'))];
  assert.deepEqual(firstReasons(plan(spring, { hourly: 5, timeZone: 'America/New_York' })), [
    'hourly 2026-03-08T01',
    'hourly 2026-03-08T03',
  ]);
});

test('keepWithin keeps complete snapshots strictly younger than it', () => {
  const snapshots = [
    snap(tm('20261121T230000Z')), // 37 h old
    snap(tm('20261122T000000Z')), // exactly 36 h old: not younger
    snap(tm('20261122T010000Z')), // 35 h
    snap(tm('20261122T020000Z-partial')), // 34 h, partial, older than the newest complete
    snap(tm('20261123T110000Z')), // 1 h
  ];
  const p = plan(snapshots, { keepWithin: 36 * 3_600_000 });
  assert.deepEqual(p.destroy, [tm('20261121T230000Z'), tm('20261122T000000Z'), tm('20261122T020000Z-partial')]);
  assert.deepEqual(reasonsOf(p, tm('20261122T010000Z')), ['keepWithin']);
  assert.deepEqual(reasonsOf(p, tm('20261123T110000Z')), ['keepWithin', 'newest complete']);
});

test('partial snapshots: kept while newer than the newest complete one, never picked by class rules', () => {
  const snapshots = [
    snap(tm('20261119T020000Z')),
    snap(tm('20261120T020000Z-partial')),
    snap(tm('20261121T020000Z')),
    snap(tm('20261122T020000Z-partial')),
    snap(tm('20261123T020000Z-partial')),
  ];
  const p = plan(snapshots, { daily: 7 });
  assert.deepEqual(p.destroy, [tm('20261120T020000Z-partial')]);
  assert.deepEqual(reasonsOf(p, tm('20261121T020000Z')), ['daily 2026-11-21', 'newest complete']);
  assert.deepEqual(reasonsOf(p, tm('20261123T020000Z-partial')), ['partial newer than newest complete']);
  assert.deepEqual(
    p.verdicts.map((v) => v.kind),
    ['complete', 'partial', 'complete', 'partial', 'partial'],
  );
  // Without any complete snapshot every partial stays.
  assert.deepEqual(
    plan(
      snapshots.filter((s) => s.name.endsWith('-partial')),
      { daily: 7 },
    ).destroy,
    [],
  );
  // A partial of the same second as a complete one sorts after it ("-partial" follows the bare name).
  assert.deepEqual(plan([snap(tm('20261123T020000Z')), snap(tm('20261123T020000Z-partial'))], {}).destroy, []);
});

test('held snapshots are kept and reported as held; an unreadable hold count counts as held', () => {
  const snapshots = [
    snap(tm('20261120T020000Z'), undefined, 1),
    snap(tm('20261121T020000Z-partial'), undefined, 2),
    snap(tm('20261122T020000Z'), undefined, Number.NaN),
    snap(tm('20261123T020000Z'), undefined, 1),
  ];
  const p = plan([...snapshots, snap(tm('20261119T020000Z'))], {});
  assert.deepEqual(p.destroy, [tm('20261119T020000Z')]);
  assert.deepEqual(
    p.verdicts.map((v) => [v.kind, v.reasons]),
    [
      ['complete', []],
      ['held', ['held']],
      ['held', ['held']],
      ['held', ['held']],
      ['held', ['newest complete', 'held']],
    ],
  );
  // A held snapshot still fills its period: the day's older snapshot is not kept in its place.
  const day = plan([snap(tm('20261123T010000Z')), snap(tm('20261123T020000Z'), undefined, 1)], { daily: 1 });
  assert.deepEqual(reasonsOf(day, tm('20261123T020000Z')), ['daily 2026-11-23', 'newest complete', 'held']);
  assert.deepEqual(day.destroy, [tm('20261123T010000Z')]);
});

test('foreign snapshots are never touched and never count as the newest complete copy', () => {
  const snapshots = [
    snap('before-upgrade', '2026-11-23T11:00:00Z'),
    snap('tidemark-bogus', '2026-11-23T11:30:00Z'),
    snap('tidemark-20261131T000000Z', '2026-11-01T00:00:00Z'), // no 31 November
    snap(tm('20261121T020000Z')),
    snap(tm('20261122T020000Z')),
  ];
  const p = plan(snapshots, {});
  assert.deepEqual(p.destroy, [tm('20261121T020000Z')]);
  assert.deepEqual(
    p.verdicts.map((v) => [v.name, v.kind, v.reasons]),
    [
      ['tidemark-20261131T000000Z', 'foreign', ['foreign']],
      [tm('20261121T020000Z'), 'complete', []],
      [tm('20261122T020000Z'), 'complete', ['newest complete']],
      ['before-upgrade', 'foreign', ['foreign']],
      ['tidemark-bogus', 'foreign', ['foreign']],
    ],
  );
});

test('SOWN names: rotated as complete snapshots when adopted, foreign otherwise', () => {
  const snapshots = [
    snap('backup-daily-2026-11-19', '2026-11-19T02:00:00Z'),
    snap('backup-daily-2026-11-20', '2026-11-20T02:00:00Z'),
    snap('backup-weekly-2026-11-20', '2026-11-20T02:00:05Z'),
    snap('backup-daily-2026-11-21', '1970-01-01T00:00:00Z'), // creation not on the named date: local midnight
    snap(tm('20261122T020000Z')),
  ];
  const adopted = plan(snapshots, { daily: 3, timeZone: 'Europe/Amsterdam' }, { adopt: { sown: true } });
  assert.deepEqual(adopted.destroy, ['backup-daily-2026-11-19', 'backup-daily-2026-11-20']);
  assert.deepEqual(reasonsOf(adopted, 'backup-weekly-2026-11-20'), ['daily 2026-11-20']);
  assert.deepEqual(reasonsOf(adopted, 'backup-daily-2026-11-21'), ['daily 2026-11-21']);
  const midnight = adopted.verdicts.find((v) => v.name === 'backup-daily-2026-11-21');
  assert.equal(midnight?.takenAt, Date.parse('2026-11-20T23:00:00Z')); // 00:00 CET
  assert.ok(adopted.verdicts.every((v) => v.kind === 'complete'));

  const notAdopted = plan(snapshots, { daily: 3, timeZone: 'Europe/Amsterdam' }, { adopt: { planb: true } });
  assert.deepEqual(notAdopted.destroy, []);
  assert.deepEqual(notAdopted.verdicts.filter((v) => v.kind === 'foreign').length, 4);

  // The newest complete copy may be an adopted one; an impossible date is foreign.
  const only = plan(
    [
      snap('backup-daily-2026-11-21', '2026-11-21T03:00:00Z'),
      snap('backup-daily-2026-11-22', '2026-11-22T03:00:00Z'),
      snap('backup-daily-2026-02-30'),
    ],
    {},
    { adopt: { sown: true } },
  );
  assert.deepEqual(only.destroy, ['backup-daily-2026-11-21']);
  assert.deepEqual(reasonsOf(only, 'backup-daily-2026-02-30'), ['foreign']);
});

test('SOWN dates use the policy zone, including a midnight skipped by DST', () => {
  // Santiago springs forward at 2026-09-06 00:00 (-04) to 01:00 (-03): the day starts at 04:00 UTC.
  const p = plan([snap('backup-daily-2026-09-06', '1970-01-01T00:00:00Z')], {}, { adopt: { sown: true } });
  assert.equal(p.verdicts[0]?.takenAt, Date.parse('2026-09-06T00:00:00Z'));
  const santiago = plan(
    [snap('backup-daily-2026-09-06', '1970-01-01T00:00:00Z')],
    { timeZone: 'America/Santiago' },
    { adopt: { sown: true } },
  );
  assert.equal(santiago.verdicts[0]?.takenAt, Date.parse('2026-09-06T04:00:00Z'));
});

test('PlanB names: rotated as complete snapshots when adopted, foreign otherwise', () => {
  const snapshots = [
    'planb-20261120T0300Z',
    'planb-20261121T0300Z',
    'planb-20261122T0300Z',
    'planb-20261132T0300Z',
    tm('20261123T020000Z'),
  ].map((n) => snap(n, '2026-11-01T00:00:00Z'));
  const adopted = plan(snapshots, { daily: 2 }, { adopt: { planb: true } });
  assert.deepEqual(adopted.destroy, ['planb-20261120T0300Z', 'planb-20261121T0300Z']);
  assert.deepEqual(reasonsOf(adopted, 'planb-20261122T0300Z'), ['daily 2026-11-22']);
  assert.equal(
    adopted.verdicts.find((v) => v.name === 'planb-20261122T0300Z')?.takenAt,
    Date.parse('2026-11-22T03:00:00Z'),
  );
  assert.deepEqual(reasonsOf(adopted, 'planb-20261132T0300Z'), ['foreign']);
  assert.deepEqual(plan(snapshots, { daily: 2 }, { adopt: { sown: true } }).destroy, []);
  assert.deepEqual(plan(snapshots.slice(0, 3), {}, { adopt: { planb: true } }).destroy, [
    'planb-20261120T0300Z',
    'planb-20261121T0300Z',
  ]);
});

test('a backup that did not succeed destroys nothing and says so', () => {
  const snapshots = ['20261121T020000Z', '20261122T020000Z', '20261123T020000Z'].map((s) => snap(tm(s)));
  const p = plan(snapshots, { daily: 1 }, { backupSucceeded: false });
  assert.deepEqual(p.destroy, []);
  assert.deepEqual(
    p.verdicts.map((v) => v.reasons),
    [['backup did not succeed'], ['backup did not succeed'], ['daily 2026-11-23', 'newest complete']],
  );
});

test('the plan is the same whatever the input order', () => {
  const snapshots = [
    snap('before-upgrade'),
    ...dailyYear().slice(-40),
    snap(tm('20261123T030000Z-partial'), undefined, 1),
  ];
  const policy = { daily: 3, weekly: 2, timeZone: 'America/New_York' };
  assert.deepEqual(plan([...snapshots].reverse(), policy), plan(snapshots, policy));
});

test('checkDestroySafety re-checks one name against the never-destroy rules on fresh data', () => {
  const fresh = [
    snap('before-upgrade'),
    snap(tm('20261120T020000Z')),
    snap(tm('20261121T020000Z'), undefined, 1),
    snap(tm('20261122T020000Z-partial')),
    snap(tm('20261123T020000Z')),
    snap(tm('20261123T030000Z-partial')),
  ];
  const check = (name: string, backupSucceeded = true, snapshots = fresh) =>
    checkDestroySafety(name, snapshots, { timeZone: 'UTC', backupSucceeded });
  assert.deepEqual(check(tm('20261120T020000Z')), []);
  assert.deepEqual(check(tm('20261122T020000Z-partial')), []);
  assert.deepEqual(check(tm('20261120T020000Z'), false), ['backup did not succeed']);
  assert.deepEqual(check('before-upgrade'), ['foreign']);
  assert.deepEqual(check(tm('20261121T020000Z')), ['held']);
  assert.deepEqual(check(tm('20261123T020000Z')), ['newest complete']);
  assert.deepEqual(check(tm('20261123T030000Z-partial')), ['partial newer than newest complete']);
  assert.deepEqual(check(tm('20261119T020000Z')), ['not found']);
  // If the newest complete snapshot vanished meanwhile, the one before it becomes the newest.
  assert.deepEqual(
    check(
      tm('20261120T020000Z'),
      true,
      fresh.filter((s) => !s.name.startsWith(tm('20261123'))),
    ),
    [],
  );
  assert.deepEqual(
    check(
      tm('20261121T020000Z'),
      true,
      fresh.filter((s) => !s.name.startsWith(tm('20261123'))),
    ),
    ['newest complete', 'held'],
  );
  // Adoption changes what is foreign.
  const planb = [snap('planb-20261120T0300Z'), snap('planb-20261121T0300Z')];
  assert.deepEqual(checkDestroySafety('planb-20261120T0300Z', planb, { timeZone: 'UTC', backupSucceeded: true }), [
    'foreign',
  ]);
  assert.deepEqual(
    checkDestroySafety('planb-20261120T0300Z', planb, {
      timeZone: 'UTC',
      adopt: { planb: true },
      backupSucceeded: true,
    }),
    [],
  );
});
