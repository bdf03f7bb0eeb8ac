// PlanB's and SOWN's snapshot names as retention and the listings read them (pure).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePlanbKeepName, parsePlanbSnapshotName, referenceClass } from '../domain/adopted-names.js';
import { classifySnapshot } from '../domain/retention.js';

test('PlanB: planb- and older class names are rotatable with their time (UTC); keep names and bad dates are not', () => {
  assert.deepEqual(parsePlanbSnapshotName('planb-20261120T0300Z'), {
    class: 'planb',
    takenAt: Date.UTC(2026, 10, 20, 3, 0),
  });
  assert.deepEqual(parsePlanbSnapshotName('daily-201706031147'), {
    class: 'daily',
    takenAt: Date.UTC(2017, 5, 3, 11, 47),
  });
  assert.equal(parsePlanbSnapshotName('yearly-201702301147'), undefined, 'no 30 February');
  assert.equal(parsePlanbSnapshotName('planb-20261120T2500Z'), undefined);
  assert.equal(parsePlanbSnapshotName('before-upgrade-20261120T0300Z'), undefined);
  assert.deepEqual(parsePlanbKeepName('before-upgrade-20261120T0300Z'), {
    prefix: 'before-upgrade',
    takenAt: Date.UTC(2026, 10, 20, 3, 0),
  });
  assert.equal(parsePlanbKeepName('planb-20261120T0300Z'), undefined, 'planb- is the rotated prefix');
  assert.equal(parsePlanbKeepName('tidemark-20261120T030000Z'), undefined, "Tidemark's own names have seconds");
  assert.deepEqual(
    ['planb-20261120T0300Z', 'weekly-201706041147', 'keep-20261120T0300Z', 'backup-monthly-2026-11-01', 'x'].map(
      referenceClass,
    ),
    ['PlanB run', 'PlanB weekly', 'PlanB keep', 'SOWN monthly', undefined],
  );
});

test('retention: with adopt.planb the old class names are complete copies; keep names stay foreign', () => {
  const read = (name: string, planb: boolean) =>
    classifySnapshot({ name, createdAt: 1, holds: 0 }, 'UTC', { planb }).recognized;
  assert.equal(read('daily-201706031147', true), true);
  assert.equal(read('daily-201706031147', false), false);
  assert.equal(read('before-upgrade-20261120T0300Z', true), false);
});
