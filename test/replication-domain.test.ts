// Replication without pools: what to send from two listings (domain/replication.ts), when a target is back
// from a failover, and the inventory's replication fields refused with field-naming messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planSend, sourceCaughtUp, type ReplicaSnapshot } from '../domain/replication.js';
import { parseInventory } from '../inventory/load.js';
import { replicaTargets, replicationSource, resolveReplication } from '../inventory/replication.js';
import { testRejections } from './helpers/inventory-rejections.js';

const snap = (stamp: string, guid: string, label = ''): ReplicaSnapshot => ({
  name: `tidemark-2026120${stamp}Z${label}`,
  guid,
});
const a = snap('1T000000', '1');
const b = snap('2T000000', '2', '-suspect');
const c = snap('3T000000', '3');
const failoverPull = snap('4T000000', '9');
const d = snap('5T000000', '4');

test('nothing on the target: a full send of the newest snapshot', () => {
  assert.deepEqual(planSend([a, b, c], []), { kind: 'full', to: c.name });
});

test('an incremental send from the newest common snapshot carries the ones between, anomalies included', () => {
  assert.deepEqual(planSend([a, b, c], [a]), { kind: 'incremental', from: a.name, to: c.name });
  assert.deepEqual(planSend([a, b, c], [a, b]), { kind: 'incremental', from: b.name, to: c.name });
});

test('common snapshots are matched by guid, not by name', () => {
  const renamed = { ...a, name: 'tidemark-20261201T000001Z' };
  assert.equal(planSend([a, c], [{ ...renamed, guid: 'other' }]).kind, 'diverged');
  assert.deepEqual(planSend([a, c], [{ name: a.name, guid: '1' }]), { kind: 'incremental', from: a.name, to: c.name });
});

test('up to date, nothing at the source, foreign snapshots never the goal', () => {
  assert.deepEqual(planSend([a, c], [a, c]), { kind: 'up-to-date', snapshot: c.name });
  assert.deepEqual(planSend([], []), { kind: 'nothing' });
  assert.deepEqual(planSend([{ name: 'manual', guid: '7' }], []), { kind: 'nothing' });
});

test('a failover pull on the target diverges; the source catching up is judged by the snapshot times', () => {
  const stale = planSend([a, c], [a, c, failoverPull]);
  assert.equal(stale.kind, 'diverged');
  assert.equal(sourceCaughtUp(stale as Extract<typeof stale, { kind: 'diverged' }>), false);
  const back = planSend([a, c, d], [a, c, failoverPull]);
  assert.deepEqual(
    { ...back, why: '' },
    {
      kind: 'diverged',
      common: c.name,
      targetNewest: failoverPull.name,
      sourceNewest: d.name,
      why: '',
    },
  );
  assert.equal(sourceCaughtUp(back as Extract<typeof back, { kind: 'diverged' }>), true);
  const pruned = planSend([d], [a]);
  assert.equal(pruned.kind, 'diverged');
  assert.equal((pruned as { common?: string }).common, undefined);
});

const base = `
servers:
  b1: { dataset: data }
  b2: { dataset: tank/r, replicateFrom: b1, receive: { address: 192.0.2.2, port: 2222 }, replication: { failoverAfter: 2d, bandwidthLimit: 5M } }
  b3: { dataset: data }
hosts:
  web: { address: web.example.org, servers: [b1, b2] }
  db: { address: db.example.org, servers: [b2, b3] }
`;

test('who replicates what, from each server inventory alone', () => {
  const inventory = parseInventory(base);
  assert.deepEqual(replicaTargets(inventory, 'web', 'b1'), ['b2']);
  assert.equal(replicationSource(inventory, 'web', 'b2'), 'b1');
  // db is not on b1: b2 pulls it itself.
  assert.equal(replicationSource(inventory, 'db', 'b2'), undefined);
  assert.deepEqual(replicaTargets(inventory, 'db', 'b3'), []);
  const resolved = resolveReplication(inventory, { host: 'web', source: 'b1', target: 'b2' });
  assert.equal(resolved.sourceDataset, 'data/web');
  assert.equal(resolved.targetDataset, 'tank/r/web');
  assert.deepEqual(resolved.login, { address: '192.0.2.2', port: 2222, user: 'root' });
  assert.equal(resolved.failoverAfterMs, 2 * 86_400_000);
  assert.equal(resolved.bandwidthLimit, '5M');
  assert.throws(
    () => resolveReplication(inventory, { host: 'db', source: 'b1', target: 'b2' }),
    /not replicated from b1 to b2/,
  );
});

const server = (b2: string) => `servers:\n  b1: { dataset: data }\n  b2: ${b2}\nhosts: {}\n`;
testRejections([
  [
    server('{ dataset: tank, replicateFrom: b9, receive: { address: x } }'),
    /servers\.b2\.replicateFrom.*unknown server "b9"/s,
  ],
  [server('{ dataset: tank, replicateFrom: b2, receive: { address: x } }'), /cannot replicate from itself/],
  [server('{ dataset: tank, replicateFrom: b1 }'), /servers\.b2\.receive.*give its sshd/s],
  [
    server('{ dataset: tank, replicateFrom: b1, receive: { address: x }, replication: { bandwidthLimit: fast } }'),
    /bandwidthLimit.*"10M"/s,
  ],
  [
    server('{ dataset: tank, replicateFrom: b1, receive: { address: x }, replication: { failoverAfter: soon } }'),
    /failoverAfter/,
  ],
  [
    `servers:\n  b1: { dataset: data, replicateFrom: b2, receive: { address: x } }\n  b2: { dataset: tank, replicateFrom: b1, receive: { address: y } }\nhosts: {}\n`,
    /itself replicates from .*no chains/,
  ],
]);
