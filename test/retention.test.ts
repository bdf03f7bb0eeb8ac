// Properties of the retention plan over random histories, policies and zones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { snapshotName } from '../domain/names.js';
import {
  checkDestroySafety,
  planRetention,
  retentionClasses,
  type RetentionClass,
  type RetentionInput,
  type RetentionPolicy,
  type RetentionSnapshot,
} from '../domain/retention.js';

const numRuns = 3000;
const zones = [
  'UTC',
  'Europe/Amsterdam',
  'America/New_York',
  'Australia/Lord_Howe',
  'America/Santiago',
  'Asia/Kathmandu',
];
const start = Date.UTC(2024, 9, 1);
const spans = [2, 20, 120, 1100].map((days) => days * 86_400_000);

type Origin = 'tidemark' | 'partial' | 'sown' | 'planb' | 'foreign';
interface Generated extends RetentionSnapshot {
  origin: Origin;
  /** When the test expects the snapshot to be ordered (ms). */
  at: number;
}
interface Case extends RetentionInput {
  generated: Generated[];
}

// Independent of domain/retention.ts: local dates and hours via different Intl formats.
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const hourFormats = new Map<string, Intl.DateTimeFormat>();
const weekdayFormats = new Map<string, Intl.DateTimeFormat>();
function cached(
  cache: Map<string, Intl.DateTimeFormat>,
  zone: string,
  make: () => Intl.DateTimeFormat,
): Intl.DateTimeFormat {
  if (!cache.has(zone)) cache.set(zone, make());
  return cache.get(zone)!;
}
/** "2026-11-20" in the zone. */
function localDate(ms: number, zone: string): string {
  return cached(
    dateFormats,
    zone,
    () => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }),
  ).format(ms);
}
function localHour(ms: number, zone: string): string {
  return cached(
    hourFormats,
    zone,
    () => new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }),
  ).format(ms);
}
const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
function periodKey(cls: RetentionClass, ms: number, zone: string, weekStartsOn: number): string {
  const date = localDate(ms, zone);
  if (cls === 'hourly') return `${date} ${localHour(ms, zone)}`;
  if (cls === 'daily') return date;
  if (cls === 'monthly') return date.slice(0, 7);
  if (cls === 'yearly') return date.slice(0, 4);
  const weekday = weekdays.indexOf(
    cached(weekdayFormats, zone, () => new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short' })).format(
      ms,
    ),
  );
  const back = (weekday - weekStartsOn + 7) % 7;
  return new Date(Date.parse(`${date}T00:00:00Z`) - back * 86_400_000).toISOString().slice(0, 10);
}

const rawSnapshot = fc.record({
  origin: fc.constantFrom<Origin>(
    'tidemark',
    'tidemark',
    'tidemark',
    'tidemark',
    'partial',
    'sown',
    'planb',
    'foreign',
  ),
  position: fc.integer({ min: 0, max: 1_000_000 }),
  holds: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, 2),
  foreignName: fc.constantFrom(
    'before-upgrade',
    'manual',
    'tidemark-bogus',
    'tidemark-20261131T000000Z',
    'planb-2026',
    'backup-daily-2026-02-30',
  ),
  sownClass: fc.constantFrom('daily', 'weekly', 'monthly', 'yearly'),
});
const count = fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined });
const caseArb: fc.Arbitrary<Case> = fc
  .record({
    zone: fc.constantFrom(...zones),
    span: fc.constantFrom(...spans),
    raw: fc.array(rawSnapshot, { maxLength: 40 }),
    counts: fc.record({ hourly: count, daily: count, weekly: count, monthly: count, yearly: count }),
    keepWithin: fc.option(fc.integer({ min: 0, max: 40 * 86_400_000 }), { nil: undefined }),
    weekStartsOn: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
    nowPosition: fc.integer({ min: 0, max: 1_100_000 }),
    adopt: fc.record({ sown: fc.boolean(), planb: fc.boolean() }),
  })
  .map(({ zone, span, raw, counts, keepWithin, weekStartsOn, nowPosition, adopt }) => {
    const byName = new Map<string, Generated>();
    raw.forEach((r, index) => {
      const t = start + Math.floor((r.position / 1_000_000) * span);
      const seconds = Math.floor(t / 1000) * 1000;
      const minutes = Math.floor(t / 60_000) * 60_000;
      const iso = new Date(minutes).toISOString();
      const [name, at] =
        r.origin === 'tidemark'
          ? [snapshotName(new Date(seconds)), seconds]
          : r.origin === 'partial'
            ? [snapshotName(new Date(seconds), 'partial'), seconds]
            : r.origin === 'planb'
              ? [`planb-${iso.slice(0, 16).replace(/[-:]/g, '')}Z`, minutes]
              : r.origin === 'sown'
                ? [`backup-${r.sownClass}-${localDate(seconds, zone)}`, seconds]
                : [`${r.foreignName}-${index}`, seconds];
      byName.set(name, { name, createdAt: seconds / 1000, holds: r.holds, origin: r.origin, at });
    });
    const generated = [...byName.values()];
    const policy: RetentionPolicy = { ...counts, timeZone: zone };
    if (keepWithin !== undefined) policy.keepWithin = keepWithin;
    if (weekStartsOn !== undefined) policy.weekStartsOn = weekStartsOn;
    const now = start + Math.floor((nowPosition / 1_000_000) * span);
    return { generated, snapshots: generated, policy, now, backupSucceeded: true, adopt };
  });

function isComplete(s: Generated, c: Case): boolean {
  return (
    s.origin === 'tidemark' || (s.origin === 'sown' && !!c.adopt?.sown) || (s.origin === 'planb' && !!c.adopt?.planb)
  );
}
const newer = (a: Generated, b: Generated) => a.at > b.at || (a.at === b.at && a.name > b.name);
function newestComplete(c: Case): Generated | undefined {
  return c.generated
    .filter((s) => isComplete(s, c))
    .reduce<Generated | undefined>((best, s) => (!best || newer(s, best) ? s : best), undefined);
}

test('never destroys foreign, held or the newest complete snapshot, nor newer partials', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const plan = planRetention(c);
      const destroyed = new Set(plan.destroy);
      const newest = newestComplete(c);
      for (const s of c.generated) {
        if (!destroyed.has(s.name)) continue;
        assert.ok(s.origin !== 'foreign', `foreign ${s.name} destroyed`);
        assert.ok(s.origin !== 'sown' || c.adopt?.sown, `not adopted ${s.name} destroyed`);
        assert.ok(s.origin !== 'planb' || c.adopt?.planb, `not adopted ${s.name} destroyed`);
        assert.equal(s.holds, 0, `held ${s.name} destroyed`);
        assert.notEqual(s, newest, `newest complete ${s.name} destroyed`);
        if (s.origin === 'partial')
          assert.ok(newest && newer(newest, s), `partial ${s.name} newer than the newest complete destroyed`);
        assert.deepEqual(
          checkDestroySafety(s.name, c.snapshots, {
            timeZone: c.policy.timeZone,
            adopt: c.adopt,
            backupSucceeded: true,
          }),
          [],
        );
      }
      if (newest)
        assert.deepEqual(
          checkDestroySafety(newest.name, c.snapshots, {
            timeZone: c.policy.timeZone,
            adopt: c.adopt,
            backupSucceeded: true,
          }),
          ['newest complete'].concat(newest.holds ? ['held'] : []),
        );
      assert.equal(plan.verdicts.length, c.generated.length);
      for (const v of plan.verdicts) assert.equal(v.keep, !destroyed.has(v.name));
      for (const v of plan.verdicts) assert.equal(v.keep, v.reasons.length > 0);
    }),
    { numRuns },
  );
});

test('each class keeps the newest snapshot of its newest min(N, periods present) periods', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const plan = planRetention(c);
      const complete = c.generated.filter((s) => isComplete(s, c));
      for (const cls of retentionClasses) {
        const n = c.policy[cls] ?? 0;
        const newestByPeriod = new Map<string, Generated>();
        for (const s of complete) {
          const key = periodKey(cls, s.at, c.policy.timeZone, c.policy.weekStartsOn ?? 1);
          const best = newestByPeriod.get(key);
          if (!best || newer(s, best)) newestByPeriod.set(key, s);
        }
        const expected = [...newestByPeriod.values()]
          .sort((a, b) => (newer(a, b) ? -1 : 1))
          .slice(0, n)
          .map((s) => s.name);
        const kept = plan.verdicts.filter((v) => v.reasons.some((r) => r.startsWith(`${cls} `))).map((v) => v.name);
        assert.equal(kept.length, Math.min(n, newestByPeriod.size), `${cls} count`);
        assert.deepEqual(new Set(kept), new Set(expected), `${cls} selection`);
      }
    }),
    { numRuns },
  );
});

test('the plan does not depend on the input order', () => {
  const withOrder = caseArb.chain((c) =>
    fc
      .shuffledSubarray(c.snapshots as RetentionSnapshot[], {
        minLength: c.snapshots.length,
        maxLength: c.snapshots.length,
      })
      .map((shuffled) => ({ c, shuffled })),
  );
  fc.assert(
    fc.property(withOrder, ({ c, shuffled }) => {
      const plan = planRetention(c);
      assert.deepEqual(planRetention({ ...c, snapshots: shuffled }), plan);
      assert.deepEqual(planRetention({ ...c, snapshots: [...c.snapshots].reverse() }), plan);
    }),
    { numRuns },
  );
});

test('pruning twice: re-planning on the survivors destroys nothing and keeps them for the same reasons', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const plan = planRetention(c);
      const destroyed = new Set(plan.destroy);
      const again = planRetention({ ...c, snapshots: c.snapshots.filter((s) => !destroyed.has(s.name)) });
      assert.deepEqual(again.destroy, []);
      assert.deepEqual(
        again.verdicts,
        plan.verdicts.filter((v) => v.keep),
      );
    }),
    { numRuns },
  );
});

test('a backup that did not succeed destroys nothing', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const plan = planRetention({ ...c, backupSucceeded: false });
      assert.deepEqual(plan.destroy, []);
      assert.ok(plan.verdicts.every((v) => v.keep));
      for (const s of c.snapshots) {
        assert.ok(
          checkDestroySafety(s.name, c.snapshots, {
            timeZone: c.policy.timeZone,
            adopt: c.adopt,
            backupSucceeded: false,
          }).includes('backup did not succeed'),
        );
      }
    }),
    { numRuns },
  );
});
