// Blackout hours hold for retries (domain/blackout-retry.ts, activities/blackout-retry.ts): when a host step's
// next attempt would start inside a window it waits for the window's end; otherwise nothing changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { blackoutAt, delayPastBlackout, plannedRetryDelayMs } from '../domain/blackout-retry.js';
import { deferredPastBlackout } from '../activities/blackout-retry.js';
import type { BackupPlan } from '../domain/backup.js';

const utc = (time: string) => new Date(`2026-12-07T${time}Z`);
const office = { windows: ['08:00-18:00'], timeZone: 'UTC' };

test('inside a window: which one and how long until it ends; outside: nothing', () => {
  assert.deepEqual(blackoutAt(utc('17:59:30'), office), { window: '08:00-18:00', remainingMs: 30_000 });
  assert.equal(blackoutAt(utc('18:00:00'), office), undefined, 'the end is not part of the window');
  assert.equal(blackoutAt(utc('07:59:59'), office), undefined);
  const night = { windows: ['22:00-02:00'], timeZone: 'UTC' };
  assert.deepEqual(blackoutAt(utc('23:00:00'), night), { window: '22:00-02:00', remainingMs: 3 * 3_600_000 });
  assert.deepEqual(blackoutAt(utc('01:00:00'), night), { window: '22:00-02:00', remainingMs: 3_600_000 });
  // Read in the host's zone: 09:00 in Amsterdam (winter, UTC+1) is 08:00 UTC.
  const amsterdam = { windows: ['09:00-10:00'], timeZone: 'Europe/Amsterdam' };
  assert.deepEqual(blackoutAt(utc('08:30:00'), amsterdam), { window: '09:00-10:00', remainingMs: 1_800_000 });
  assert.equal(blackoutAt(utc('09:30:00'), amsterdam), undefined);
});

test('a planned retry delay is stretched only when it lands in a window, across back-to-back windows', () => {
  assert.equal(delayPastBlackout(utc('07:00:00'), 60_000, office), undefined);
  assert.equal(delayPastBlackout(utc('07:00:00'), 60_000, undefined), undefined);
  assert.deepEqual(delayPastBlackout(utc('07:59:30'), 60_000, office), {
    delayMs: 10 * 3_600_000 + 30_000,
    window: '08:00-18:00',
  });
  const split = { windows: ['08:00-12:00', '12:00-13:00'], timeZone: 'UTC' };
  assert.deepEqual(delayPastBlackout(utc('11:00:00'), 1_000, split), {
    delayMs: 2 * 3_600_000,
    window: '08:00-12:00',
  });
  assert.equal(plannedRetryDelayMs(1, 30_000), 30_000);
  assert.equal(plannedRetryDelayMs(3, 30_000), 120_000);
  assert.equal(plannedRetryDelayMs(9, 30_000), 600_000, 'capped at the policy maximum interval');
});

test('a retryable failure inside a window is retried after it; a final attempt or a fatal one is left as is', () => {
  const plan = {
    transfer: { attempts: 3, retryIntervalMs: 1_000, blackout: { windows: ['10:00-10:05'], timeZone: 'UTC' } },
  } as unknown as BackupPlan;
  const deferred = deferredPastBlackout(plan, new Error('ssh exited 255: Connection refused'), 1, utc('10:01:00'));
  assert.ok(deferred instanceof ApplicationFailure);
  assert.equal(deferred.nextRetryDelay, 4 * 60_000);
  assert.match(deferred.message, /Connection refused; attempt 2 waits for the blackout window 10:00-10:05 to end/);
  const transient = ApplicationFailure.create({ message: 'rsync exited 12', type: 'RsyncTransient' });
  assert.equal(
    (deferredPastBlackout(plan, transient, 2, utc('10:01:00')) as ApplicationFailure).type,
    'RsyncTransient',
    'the failure keeps its type',
  );
  const last = new Error('last');
  assert.equal(deferredPastBlackout(plan, last, 3, utc('10:01:00')), last, 'no attempt follows the last one');
  const fatal = ApplicationFailure.create({ message: 'host key', type: 'HostKeyRejected', nonRetryable: true });
  assert.equal(deferredPastBlackout(plan, fatal, 1, utc('10:01:00')), fatal);
  const outside = new Error('outside');
  assert.equal(deferredPastBlackout(plan, outside, 1, utc('09:00:00')), outside);
});
