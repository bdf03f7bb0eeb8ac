// How the snapshot step's retention outcome reads into a run's summary (workflows/retention.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackupSummary } from '../domain/backup.js';
import { withRetentionOutcome } from '../workflows/retention.js';

const summary: BackupSummary = {
  host: 'vpn',
  server: 'b1',
  status: 'SUCCESS',
  dataset: 'tank/vpn',
  snapshot: 'tank/vpn@tidemark-20261201T020000Z',
  filesTransferred: 3,
  bytesTransferred: 30,
  bytesReceived: 40,
  durationMs: 1000,
  message: '3 files, 30 bytes in 1s',
};

test('no retention asked for: the summary is unchanged', () => {
  assert.deepEqual(withRetentionOutcome(summary, undefined), summary);
});

test('a retention failure keeps the snapshots and turns SUCCESS into WARNING, saying why', () => {
  const result = withRetentionOutcome(summary, { error: 'zfs get: pool I/O is currently suspended' });
  assert.equal(result.status, 'WARNING');
  assert.deepEqual(result.pruned, []);
  assert.equal(
    result.message,
    '3 files, 30 bytes in 1s; snapshots were not pruned: zfs get: pool I/O is currently suspended',
  );
});

test('pruned counts only what is gone; what the fresh check left is named with its reasons', () => {
  const verdict = (name: string, keep: boolean) => ({
    name,
    kind: 'complete' as const,
    keep,
    reasons: keep ? ['daily'] : [],
    takenAt: 0,
  });
  const result = withRetentionOutcome(summary, {
    plan: {
      verdicts: [verdict('a', false), verdict('b', false), verdict('c', false), verdict('d', true)],
      destroy: ['a', 'b', 'c'],
    },
    result: { destroyed: ['a'], alreadyGone: ['b'], refused: [{ name: 'c', reasons: ['held'] }] },
  });
  assert.equal(result.status, 'SUCCESS');
  assert.deepEqual(result.pruned, ['a', 'b']);
  assert.equal(
    result.message,
    '3 files, 30 bytes in 1s; pruned 2 snapshots, 1 kept; 1 left by the safety check (c: held)',
  );
});
