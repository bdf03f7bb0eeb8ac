// Anomaly-gated retention over two years of daily runs: bad runs (suspect, partial) never cost a good
// snapshot, and never make the dataset grow without bound.
//
// Two worlds run the same days: the real one (every run takes its snapshot and prunes, failed runs do
// neither) and the good-only one (only the good runs happened). Claims, checked after every real run:
//  - the real world's complete snapshots are exactly the good-only world's (so every snapshot retention
//    keeps when only the good runs happened survives);
//  - its anomalies are exactly the newest min(cap, n) of the n anomaly runs since the last good run;
//  - it holds at most  sum(class counts) + ceil(keepWithin / 1 day) + 1 + cap  snapshots: class rules
//    keep one snapshot per period, keepWithin at most one daily run per day of its window, plus the
//    newest complete one, plus the capped anomalies (older anomalies go at the next good run);
//  - the prune activity's re-check (checkDestroySafety with the cap, one destroy after the other)
//    allows every planned destroy and refuses every kept anomaly and the newest complete one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseSnapshotName } from '../domain/names.js';
import {
  checkDestroySafety,
  retentionClasses,
  type RetentionPolicy,
  type RetentionSnapshot,
} from '../domain/retention.js';
import { dayMs, goodNames, runDaily, type RunOutcome } from './helpers/retention-runs.js';

const days = 730;
const numRuns = 40;
const policies: Array<Omit<RetentionPolicy, 'timeZone'>> = [
  { daily: 7 },
  { keepWithin: 7 * dayMs },
  { daily: 7, weekly: 4 },
  { daily: 7, weekly: 4, monthly: 12, yearly: 3 },
];

/** Streaks of one outcome (long bad spells as well as mixed days), repeated to fill the two years. */
const outcome = fc.constantFrom<RunOutcome>(
  'good',
  'good',
  'good',
  'suspect',
  'suspect',
  'partial',
  'partial',
  'failed',
);
const streaks = fc.array(
  fc.record({ outcome, length: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 60 })) }),
  { minLength: 1, maxLength: 120 },
);
const history = fc.record({
  outcomes: streaks.map((list) => {
    const outcomes: RunOutcome[] = [];
    for (let i = 0; outcomes.length < days; i = (i + 1) % list.length)
      outcomes.push(...Array<RunOutcome>(list[i]!.length).fill(list[i]!.outcome));
    return outcomes.slice(0, days);
  }),
  // Runs at any minute of the day, starting any day of 2025.
  first: fc.integer({ min: 0, max: 365 * 1440 - 1 }).map((minutes) => Date.UTC(2025, 0, 1) + minutes * 60_000),
  cap: fc.constantFrom(1, 3, 7),
});

function bound(policy: Omit<RetentionPolicy, 'timeZone'>, cap: number): number {
  const classes = retentionClasses.reduce((sum, cls) => sum + (policy[cls] ?? 0), 0);
  return classes + Math.ceil((policy.keepWithin ?? 0) / dayMs) + 1 + cap;
}

const isAnomaly = (snapshot: RetentionSnapshot) => parseSnapshotName(snapshot.name)?.label !== 'complete';

for (const counts of policies) {
  const policy: RetentionPolicy = { timeZone: 'UTC', ...counts };
  test(`${JSON.stringify(counts)}: bad runs never cost a good snapshot and stay within the cap`, () => {
    fc.assert(
      fc.property(history, ({ outcomes, first, cap }) => {
        // The good-only world, after each day: its snapshots as of its last prune.
        const goodOnly: string[][] = [];
        runDaily(
          outcomes.map((o) => (o === 'good' ? 'good' : 'failed')),
          { policy, anomalyCap: cap, first, afterRun: ({ index, after }) => (goodOnly[index] = goodNames(after)) },
        );
        for (let index = 0; index < days; index += 1) goodOnly[index] ??= goodOnly[index - 1] ?? [];

        const limit = bound(counts, cap);
        let anomalyRuns: string[] = []; // names of anomaly runs since the last good run, oldest first
        runDaily(outcomes, {
          policy,
          anomalyCap: cap,
          first,
          afterRun: ({ index, before, destroyed, after }) => {
            const newest = before.at(-1)!;
            anomalyRuns = isAnomaly(newest) ? [...anomalyRuns, newest.name] : [];
            assert.deepEqual(
              goodNames(after),
              goodOnly[index],
              `day ${index}: good snapshots differ from the good-only world`,
            );
            const anomalies = after.filter(isAnomaly).map((s) => s.name);
            assert.deepEqual(anomalies, anomalyRuns.slice(-cap), `day ${index}: anomalies kept`);
            assert.ok(after.length <= limit, `day ${index}: ${after.length} snapshots, more than ${limit}`);

            const context = { timeZone: 'UTC', backupSucceeded: true, anomalyCap: cap };
            let listing = before;
            for (const name of destroyed) {
              assert.deepEqual(
                checkDestroySafety(name, listing, context),
                [],
                `day ${index}: re-check refuses planned ${name}`,
              );
              listing = listing.filter((s) => s.name !== name);
            }
            // The oldest kept anomaly (the cap's edge) and the newest complete one must stay.
            const edges = [anomalies[0], goodNames(after).at(-1)].filter((name) => name !== undefined);
            for (const name of edges) {
              assert.notDeepEqual(
                checkDestroySafety(name, after, context),
                [],
                `day ${index}: re-check allows destroying ${name}`,
              );
            }
          },
        });
      }),
      { numRuns },
    );
  });
}
