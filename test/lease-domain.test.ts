// The lease decision a transfer attempt makes before rsync starts: take, fence an earlier attempt, wait,
// or give way to a later attempt of its own run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseStep, takenByEarlierAttempt, type Lease } from '../pool/lease.js';

const now = Date.parse('2026-12-01T12:00:00Z');
const lease = (fields: Partial<Lease>): Lease => ({
  workflowId: 'backup-vpn@srv',
  runId: 'run-a',
  attempt: 1,
  state: 'writing',
  worker: 'tidemark-transfer-srv',
  boot: 'boot-1',
  since: '2026-12-01T11:59:00Z',
  ...fields,
});

test('no lease, a snapshotted one, or one of a crashed writer (no rsync left): the attempt takes it', () => {
  const mine = lease({ runId: 'run-b', attempt: 1 });
  assert.deepEqual(leaseStep(undefined, mine, [], now), { kind: 'take' });
  assert.deepEqual(leaseStep(lease({ state: 'snapshotted' }), mine, [], now), { kind: 'take' });
  assert.deepEqual(leaseStep(lease({ state: 'writing' }), mine, [], now), { kind: 'take' });
});

test('an earlier attempt of the same run that still writes is fenced, then the lease is taken', () => {
  const step = leaseStep(lease({ attempt: 1 }), lease({ attempt: 2 }), [4242], now);
  assert.deepEqual(step, { kind: 'fence', groups: [4242] });
});

test('a later attempt of the same run holds the lease: this attempt was given up for dead and gives way, fencing nothing', () => {
  // A worker frozen past its heartbeat timeout can be handed the next attempt too and run it after it
  // wakes, while a later attempt already writes on the other worker.
  const held = lease({ attempt: 3, state: 'writing' });
  const step = leaseStep(held, lease({ attempt: 2 }), [4242], now);
  assert.equal(step.kind, 'superseded');
  assert.match(
    step.kind === 'superseded' ? step.reason : '',
    /attempt 3 .*holds the dataset; this attempt \(2\) was given up/,
  );
  assert.equal(
    leaseStep(lease({ attempt: 3, state: 'transferred' }), lease({ attempt: 2 }), [], now).kind,
    'superseded',
  );
});

test("another run's live writer or its unsnapshotted copy makes the attempt wait", () => {
  const mine = lease({ runId: 'run-b', attempt: 1 });
  assert.equal(leaseStep(lease({ state: 'writing' }), mine, [99], now).kind, 'wait');
  assert.equal(leaseStep(lease({ state: 'transferred', since: '2026-12-01T11:58:00Z' }), mine, [], now).kind, 'wait');
  // An rsync nobody's lease explains is waited for too, never killed.
  assert.equal(leaseStep(undefined, mine, [99], now).kind, 'wait');
  // A copy finished more than ten minutes ago by a run that never snapshotted it no longer blocks.
  assert.deepEqual(leaseStep(lease({ state: 'transferred', since: '2026-12-01T11:40:00Z' }), mine, [], now), {
    kind: 'take',
  });
});

test('a lease lost to an earlier attempt of the same run is contention (retried), to anyone else a loss', () => {
  const mine = lease({ attempt: 3 });
  assert.equal(takenByEarlierAttempt(lease({ attempt: 2 }), mine), true);
  assert.equal(takenByEarlierAttempt(lease({ attempt: 4 }), mine), false);
  assert.equal(takenByEarlierAttempt(lease({ runId: 'run-b', attempt: 1 }), mine), false);
});
