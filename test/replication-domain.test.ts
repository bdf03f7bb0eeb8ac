// Replication without pools: what to send from two listings (domain/replication.ts), when a target is back
// from a failover, and the inventory's replication fields refused with field-naming messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planSend, sourceCaughtUp, type ReplicaSnapshot } from '../domain/replication.js';
import { parseInventory } from '../inventory/load.js';
import { explainHost } from '../inventory/explain.js';
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

// replicateFrom per group and per host: host > group > server.
const layered = `
servers:
  b1: { dataset: data, receive: { address: 192.0.2.1 } }
  b2: { dataset: tank/r, replicateFrom: b1, receive: { address: 192.0.2.2 } }
  b3: { dataset: data, receive: { address: 192.0.2.3 } }
groups:
  dc3: { replicateFrom: b3 }
  local: { replicateFrom: false }
hosts:
  web: { address: web.example.org, servers: [b1, b2] }
  mail: { address: mail.example.org, group: dc3 }
  db: { address: db.example.org, group: dc3, replicateFrom: b1, servers: [b1, b2, b3] }
  ldap: { address: ldap.example.org, group: local, servers: [b1, b2] }
  dns: { address: dns.example.org, replicateFrom: b2, servers: [b1, b2] }
`;

test("replicateFrom of a host or its group wins over the servers' own", () => {
  const inventory = parseInventory(layered);
  const sources = (host: string) =>
    Object.fromEntries(
      ['b1', 'b2', 'b3'].map((target) => [target, replicationSource(inventory, host, target) ?? null]),
    );
  // The server's own: b2 takes web from b1.
  assert.deepEqual(sources('web'), { b1: null, b2: 'b1', b3: null });
  // The group's: b3 pulls mail, b1 and b2 take it from b3 (b2's own replicateFrom: b1 is overridden).
  assert.deepEqual(sources('mail'), { b1: 'b3', b2: 'b3', b3: null });
  assert.deepEqual(replicaTargets(inventory, 'mail', 'b3'), ['b1', 'b2']);
  // The host's own over its group's.
  assert.deepEqual(sources('db'), { b1: null, b2: 'b1', b3: 'b1' });
  // false: every server pulls.
  assert.deepEqual(sources('ldap'), { b1: null, b2: null, b3: null });
  assert.deepEqual(replicaTargets(inventory, 'ldap', 'b1'), []);
  // The other way round from the servers' setting: b2 pulls dns, b1 takes it from b2.
  assert.deepEqual(sources('dns'), { b1: 'b2', b2: null, b3: null });
  assert.equal(resolveReplication(inventory, { host: 'mail', source: 'b3', target: 'b1' }).targetDataset, 'data/mail');
  assert.throws(
    () => resolveReplication(inventory, { host: 'ldap', source: 'b1', target: 'b2' }),
    /not replicated from b1 to b2: set replicateFrom: b1 on the host/,
  );
});

test('config check --explain says where replicateFrom came from', () => {
  const inventory = parseInventory(layered);
  const explained = (host: string) => explainHost(inventory, host).find((item) => item.setting === 'replicateFrom');
  assert.deepEqual(explained('web'), { setting: 'replicateFrom', value: { b2: 'b1' }, origin: 'server b2' });
  assert.deepEqual(explained('mail'), { setting: 'replicateFrom', value: { b1: 'b3', b2: 'b3' }, origin: 'group dc3' });
  assert.deepEqual(explained('db'), { setting: 'replicateFrom', value: { b2: 'b1', b3: 'b1' }, origin: 'host' });
  assert.deepEqual(explained('ldap'), { setting: 'replicateFrom', value: false, origin: 'group local' });
  const alone = parseInventory('servers:\n  b1: { dataset: data }\nhosts:\n  web: { address: web.example.org }\n');
  assert.deepEqual(
    explainHost(alone, 'web').find((item) => item.setting === 'replicateFrom'),
    { setting: 'replicateFrom', value: false, origin: 'built-in default' },
  );
});

const hosts = (extra: string) =>
  `servers:\n  b1: { dataset: data }\n  b2: { dataset: tank, receive: { address: x } }\n  b3: { dataset: data }\n${extra}`;
testRejections([
  [
    hosts('hosts:\n  web: { address: w, replicateFrom: b9 }\n'),
    /hosts\.web\.replicateFrom.*unknown server "b9".*known: b1, b2, b3/s,
  ],
  [hosts('hosts:\n  web: { address: w, replicateFrom: 7 }\n'), /hosts\.web\.replicateFrom.*or false/s],
  [
    hosts('groups:\n  g: { replicateFrom: b9 }\nhosts:\n  web: { address: w, group: g }\n'),
    /groups\.g\.replicateFrom.*unknown server "b9"/s,
  ],
  [
    hosts('hosts:\n  web: { address: w, servers: [b1, b2], replicateFrom: b3 }\n'),
    /hosts\.web\.replicateFrom.*b3 does not back this host up \(its servers: b1, b2\)/s,
  ],
  [
    hosts('hosts:\n  web: { address: w, servers: [b1, b3], replicateFrom: b1 }\n'),
    /hosts\.web\.replicateFrom.*server b3 would take.*servers\.b3\.receive/s,
  ],
  [
    hosts('groups:\n  g: { replicateFrom: b2 }\nhosts:\n  web: { address: w, group: g, servers: [b2, b3] }\n'),
    /hosts\.web\.replicateFrom.*from b2 \(set by group g\)/s,
  ],
  [hosts('defaults:\n  replicateFrom: b1\nhosts: {}\n'), /defaults.*replicateFrom/s],
]);
