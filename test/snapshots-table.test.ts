// `tidemark snapshots`' table: a SIZE of 0B (always the newest snapshot's) comes with the reason. No services.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SnapshotRow } from '../pool/snapshot-report.js';
import { formatTable, sizeFootnote } from '../client/snapshot-table.js';

const row = (name: string, used: number): SnapshotRow => ({
  name,
  snapshot: `pool/host@${name}`,
  takenAt: '2026-12-01T02:00:00.000Z',
  createdAt: '2026-12-01T02:00:00.000Z',
  used,
  kind: 'complete',
  adoptedAs: null,
  holds: 0,
  keepReason: null,
  keep: true,
  reasons: ['daily 2026-12-01'],
  origin: null,
});

test('a 0B snapshot gets a footnote saying SIZE is what it alone holds; none without one', () => {
  const table = formatTable([row('tidemark-20261130T020000Z', 4096), row('tidemark-20261201T020000Z', 0)], 'UTC');
  const lines = table.split('\n');
  assert.match(lines[2]!, /^tidemark-20261201T020000Z +2026-12-01 02:00 +0B +complete/);
  assert.equal(lines.at(-1), sizeFootnote);
  assert.match(sizeFootnote, /alone holds.*newest snapshot shares everything with the live copy/);
  assert.ok(!formatTable([row('tidemark-20261130T020000Z', 4096)], 'UTC').includes(sizeFootnote));
});
