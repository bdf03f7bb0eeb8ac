// Anomaly-gated retention pinned against hand-worked examples: bad runs (partial, suspect) neither
// rotate good snapshots away nor pile up beyond the cap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkDestroySafety,
  defaultRetentionCounts,
  planRetention,
  safetyAnchors,
  type RetentionPolicy,
  type RetentionSnapshot,
} from '../domain/retention.js';
import { goodNames, repeat, runDaily } from './helpers/retention-runs.js';

const tm = (compact: string) => `tidemark-${compact}`;
const now = Date.parse('2026-11-23T12:00:00Z');

/** A snapshot named `name`; zfs creation time from its Tidemark name. */
function snap(name: string, holds = 0): RetentionSnapshot {
  const stamp = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(name)!;
  return {
    name,
    createdAt: Date.UTC(+stamp[1]!, +stamp[2]! - 1, +stamp[3]!, +stamp[4]!, +stamp[5]!, +stamp[6]!) / 1000,
    holds,
  };
}
/** Snapshot `tidemark-202611<day>T020000Z[-label]`. */
const day = (dd: number, label?: 'partial' | 'suspect', holds = 0) =>
  snap(tm(`202611${String(dd).padStart(2, '0')}T020000Z${label ? `-${label}` : ''}`), holds);

function plan(snapshots: RetentionSnapshot[], policy: Partial<RetentionPolicy>, anomalyCap?: number) {
  return planRetention({ snapshots, policy: { timeZone: 'UTC', ...policy }, now, backupSucceeded: true, anomalyCap });
}
const names = (snapshots: RetentionSnapshot[]) => snapshots.map((s) => s.name);
const reasonsOf = (p: ReturnType<typeof plan>, name: string) => p.verdicts.find((v) => v.name === name)?.reasons;
/** The prune activity's re-check, one destroy after the other (oldest first) on the shrinking listing. */
function safetyAllows(snapshots: RetentionSnapshot[], destroy: string[], anomalyCap?: number): string[][] {
  let listing = snapshots;
  return destroy.map((name) => {
    const reasons = checkDestroySafety(name, listing, { timeZone: 'UTC', backupSucceeded: true, anomalyCap });
    listing = listing.filter((s) => s.name !== name);
    return reasons;
  });
}
/** 2026-01-01 is a Thursday; run 59 (the 60th) is Sunday 2026-03-01. */
const first = Date.parse('2026-01-01T02:00:00Z');
const sixtyGood = repeat('good', 60);
const utc = (policy: Omit<RetentionPolicy, 'timeZone'>): RetentionPolicy => ({ timeZone: 'UTC', ...policy });
/** The seven daily snapshots of the last good run, Monday 2026-02-23 .. Sunday 2026-03-01. */
const lastWeek = ['20260223', '20260224', '20260225', '20260226', '20260227', '20260228', '20260301'].map((day) =>
  tm(`${day}T020000Z`),
);

test('loss case: {daily 7}, then 8 empty (suspect) days keeps the 7 good snapshots', () => {
  const options = { policy: utc({ daily: 7 }), anomalyCap: 7, first };
  assert.deepEqual(goodNames(runDaily(sixtyGood, options)), lastWeek);
  const left = runDaily([...sixtyGood, ...repeat('suspect', 8)], options);
  assert.deepEqual(goodNames(left), lastWeek);
  assert.equal(left.length, 7 + 7); // and the newest 7 suspect ones
});

test('loss case: {keepWithin 7d}, then 8 empty (suspect) days keeps the 7 good snapshots', () => {
  const options = { policy: utc({ keepWithin: 7 * 86_400_000 }), anomalyCap: 7, first };
  assert.deepEqual(goodNames(runDaily(sixtyGood, options)), lastWeek);
  assert.deepEqual(goodNames(runDaily([...sixtyGood, ...repeat('suspect', 8)], options)), lastWeek);
  // Failed runs in between (no snapshot, no prune) change nothing; a good run restarts the clock.
  const mixed = [...sixtyGood, 'failed', 'suspect', 'failed', 'partial', ...repeat('suspect', 20)] as const;
  assert.deepEqual(goodNames(runDaily(mixed, options)), lastWeek);
  const recovered = runDaily([...mixed, 'good'], options); // 2026-03-26: everything older than 7 days goes
  assert.deepEqual(
    recovered.map((s) => s.name),
    [tm('20260326T020000Z')],
  );
});

test('loss case: {daily 7, weekly 4}, then 29 suspect days keeps the 10 good snapshots', () => {
  const options = { policy: utc({ daily: 7, weekly: 4 }), anomalyCap: 7, first };
  // Dailies of the last week (Sunday 03-01 is also weekly 2026-W09) and the Sundays of W06..W08.
  const expected = [tm('20260208T020000Z'), tm('20260215T020000Z'), tm('20260222T020000Z'), ...lastWeek];
  assert.deepEqual(goodNames(runDaily(sixtyGood, options)), expected);
  const left = runDaily([...sixtyGood, ...repeat('suspect', 29)], options);
  assert.deepEqual(goodNames(left), expected);
  assert.equal(left.length, 10 + 7);
});

test('loss case: 390 daily partial runs after one good run stay within the cap', () => {
  const options = { policy: utc(defaultRetentionCounts), anomalyCap: 7, first };
  let most = 0;
  const left = runDaily(['good', ...repeat('partial', 390)], {
    ...options,
    afterRun: ({ after }) => (most = Math.max(most, after.length)),
  });
  assert.equal(most, 1 + 7);
  // The good one and the partials of the last 7 days (run 390 is 2027-01-26).
  const partials = ['20270120', '20270121', '20270122', '20270123', '20270124', '20270125', '20270126'].map((day) =>
    tm(`${day}T020000Z-partial`),
  );
  assert.deepEqual(
    left.map((s) => s.name),
    [tm('20260101T020000Z'), ...partials],
  );
  // Without a cap (histories from before the guards) every partial stays, as before.
  assert.equal(runDaily(['good', ...repeat('partial', 390)], { ...options, anomalyCap: undefined }).length, 391);
});

test('cap: no complete snapshot and 10 partial ones, cap 7: the newest 7 stay', () => {
  const partials = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((dd) => day(dd, 'partial'));
  const p = plan(partials, { daily: 7 }, 7);
  assert.deepEqual(p.destroy, names(partials.slice(0, 3)));
  assert.deepEqual(reasonsOf(p, partials[9]!.name), ['anomaly 1 of 7 newer than newest complete']);
  assert.deepEqual(reasonsOf(p, partials[3]!.name), ['anomaly 7 of 7 newer than newest complete']);
  assert.deepEqual(safetyAllows(partials, p.destroy, 7), [[], [], []]);
  assert.deepEqual(
    checkDestroySafety(partials[3]!.name, partials, { timeZone: 'UTC', backupSucceeded: true, anomalyCap: 7 }),
    ['anomaly 7 of 7 newer than newest complete'],
  );
});

test('cap: a complete snapshot, then 3 partial ones: all kept', () => {
  const snapshots = [day(19), day(20, 'partial'), day(21, 'partial'), day(22, 'partial')];
  const p = plan(snapshots, { daily: 7 }, 7);
  assert.deepEqual(p.destroy, []);
  assert.deepEqual(
    p.verdicts.map((v) => v.reasons),
    [
      ['daily 2026-11-19', 'newest complete'],
      ['anomaly 3 of 7 newer than newest complete'],
      ['anomaly 2 of 7 newer than newest complete'],
      ['anomaly 1 of 7 newer than newest complete'],
    ],
  );
});

test('cap: a complete snapshot, then 12 mixed partial and suspect ones: the newest 7 stay', () => {
  const anomalies = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17].map((dd) =>
    day(dd, dd % 3 === 0 ? 'partial' : 'suspect'),
  );
  const snapshots = [day(4), day(5), ...anomalies];
  const p = plan(snapshots, { daily: 7 }, 7);
  assert.deepEqual(p.destroy, names(anomalies.slice(0, 5)));
  assert.deepEqual(
    p.verdicts.map((v) => v.kind),
    ['complete', 'complete', ...anomalies.map((s) => (s.name.endsWith('-partial') ? 'partial' : 'suspect'))],
  );
  // The clock stopped at the 5th: both good ones keep their daily periods.
  assert.deepEqual(reasonsOf(p, tm('20261104T020000Z')), ['daily 2026-11-04']);
  assert.deepEqual(reasonsOf(p, tm('20261105T020000Z')), ['daily 2026-11-05', 'newest complete']);
  assert.deepEqual(reasonsOf(p, tm('20261117T020000Z-suspect')), ['anomaly 1 of 7 newer than newest complete']);
  assert.deepEqual(reasonsOf(p, tm('20261111T020000Z-suspect')), ['anomaly 7 of 7 newer than newest complete']);
  assert.deepEqual(safetyAllows(snapshots, p.destroy, 7), [[], [], [], [], []]);
  // Re-checked one by one against only itself and its anchors (what the prune activity re-reads fresh).
  for (const name of p.destroy) {
    const anchors = safetyAnchors(name, snapshots, { timeZone: 'UTC', backupSucceeded: true, anomalyCap: 7 });
    assert.deepEqual(anchors, [tm('20261105T020000Z'), ...names(anomalies.slice(5)).reverse()]);
    const fresh = snapshots.filter((s) => s.name === name || anchors.includes(s.name));
    assert.deepEqual(checkDestroySafety(name, fresh, { timeZone: 'UTC', backupSucceeded: true, anomalyCap: 7 }), []);
    // If one of the anchors is gone meanwhile, that subset no longer lets it go.
    const short = fresh.filter((s) => s.name !== anchors.at(-1));
    assert.deepEqual(checkDestroySafety(name, short, { timeZone: 'UTC', backupSucceeded: true, anomalyCap: 7 }), [
      'anomaly 7 of 7 newer than newest complete',
    ]);
  }
  // Within the cap, only the newest complete one anchors it.
  assert.deepEqual(
    safetyAnchors(anomalies[11]!.name, snapshots, { timeZone: 'UTC', backupSucceeded: true, anomalyCap: 7 }),
    [tm('20261105T020000Z')],
  );
});

test('cap: a held anomaly beyond the cap is kept; held ones within it take their place', () => {
  const anomalies = [10, 11, 12, 13, 14, 15, 16, 17, 18].map((dd) =>
    day(dd, 'suspect', dd === 10 || dd === 16 ? 1 : 0),
  );
  const snapshots = [day(9), ...anomalies];
  const p = plan(snapshots, {}, 7);
  assert.deepEqual(p.destroy, [tm('20261111T020000Z-suspect')]);
  assert.deepEqual(
    p.verdicts.find((v) => v.name === anomalies[0]!.name),
    {
      name: anomalies[0]!.name,
      kind: 'held',
      keep: true,
      reasons: ['held'],
      takenAt: Date.parse('2026-11-10T02:00:00Z'),
    },
  );
  assert.deepEqual(reasonsOf(p, tm('20261116T020000Z-suspect')), ['anomaly 3 of 7 newer than newest complete', 'held']);
  const context = { timeZone: 'UTC', backupSucceeded: true, anomalyCap: 7 };
  assert.deepEqual(checkDestroySafety(anomalies[0]!.name, snapshots, context), ['held']);
  assert.deepEqual(checkDestroySafety(anomalies[1]!.name, snapshots, context), []);
});

test('cap: anomalies older than the newest complete snapshot go, as before', () => {
  const snapshots = [day(10, 'partial'), day(11, 'suspect'), day(12), day(13, 'suspect'), day(14)];
  for (const anomalyCap of [1, 7, undefined]) {
    const p = plan(snapshots, { daily: 7 }, anomalyCap);
    assert.deepEqual(p.destroy, [
      tm('20261110T020000Z-partial'),
      tm('20261111T020000Z-suspect'),
      tm('20261113T020000Z-suspect'),
    ]);
    assert.deepEqual(safetyAllows(snapshots, p.destroy, anomalyCap), [[], [], []]);
  }
});

test('cap: undefined keeps every anomaly newer than the newest complete one, with the old reasons', () => {
  const anomalies = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((dd) => day(dd, dd % 2 === 0 ? 'partial' : 'suspect'));
  const p = plan([day(9), ...anomalies], { daily: 7 });
  assert.deepEqual(p.destroy, []);
  assert.deepEqual(reasonsOf(p, tm('20261110T020000Z-partial')), ['partial newer than newest complete']);
  assert.deepEqual(reasonsOf(p, tm('20261111T020000Z-suspect')), ['suspect newer than newest complete']);
  assert.deepEqual(
    checkDestroySafety(anomalies[0]!.name, [day(9), ...anomalies], { timeZone: 'UTC', backupSucceeded: true }),
    ['partial newer than newest complete'],
  );
  // A cap left out of the safety context refuses what a capped plan destroys: it errs towards keeping.
  assert.deepEqual(safetyAllows([day(9), ...anomalies], plan([day(9), ...anomalies], {}, 7).destroy), [
    ['partial newer than newest complete'],
    ['suspect newer than newest complete'],
    ['partial newer than newest complete'],
  ]);
});

test('cap: a cap that is not a whole number of 1 or more is refused, naming the field', () => {
  for (const anomalyCap of [0, -1, 2.5, Number.NaN]) {
    assert.throws(() => plan([day(9)], {}, anomalyCap), /^Error: anomalyCap: must be a whole number, 1 or more/);
    assert.throws(
      () =>
        checkDestroySafety(tm('20261109T020000Z'), [day(9)], { timeZone: 'UTC', backupSucceeded: true, anomalyCap }),
      /anomalyCap: must be/,
    );
  }
});

test('clock stop: keepWithin measures from the newest complete snapshot while an anomaly is newer', () => {
  const week = 7 * 86_400_000;
  const good = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((dd) => day(dd));
  // now = 11-23 12:00: on the running clock nothing good is younger than 7 days.
  assert.deepEqual(plan(good, { keepWithin: week }).destroy, names(good.slice(0, 8)));
  // A suspect 11-20 is newest: measured from 11-09 02:00, 11-03 .. 11-09 are within the week.
  const p = plan([...good, day(20, 'suspect')], { keepWithin: week }, 7);
  assert.deepEqual(p.destroy, names(good.slice(0, 2)));
  assert.deepEqual(reasonsOf(p, tm('20261103T020000Z')), ['keepWithin']);
  // A complete (or adopted) snapshot newer than the anomaly: the clock runs again.
  assert.deepEqual(plan([...good, day(20, 'suspect'), day(21)], { keepWithin: week }, 7).destroy, [
    ...names(good),
    tm('20261120T020000Z-suspect'),
  ]);
  const adopted = {
    snapshots: [...good, day(20, 'partial'), { name: 'planb-20261121T0300Z', createdAt: 0, holds: 0 }],
    now,
    backupSucceeded: true,
  };
  const adoptedPlan = planRetention({
    ...adopted,
    policy: { timeZone: 'UTC', keepWithin: week },
    adopt: { planb: true },
    anomalyCap: 7,
  });
  assert.deepEqual(adoptedPlan.destroy, [...names(good), tm('20261120T020000Z-partial')]);
  // A now earlier than the newest complete one (a clock behind) is kept: the stop never advances time.
  const early = planRetention({
    snapshots: [...good, day(20, 'suspect')],
    policy: { timeZone: 'UTC', keepWithin: 86_400_000 },
    now: Date.parse('2026-11-08T12:00:00Z'),
    backupSucceeded: true,
  });
  assert.deepEqual(early.destroy, names(good.slice(0, 7)));
});
