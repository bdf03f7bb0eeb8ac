// Retention in the inventory: malformed policies and adoption settings are rejected naming the
// field, valid ones resolve to the policy the workflow plans with (defaults, merging, the server's zone).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { planBackup } from '../activities/plan.js';
import { keepReasonProblem } from '../domain/keep.js';
import { planRetention } from '../domain/retention.js';
import { parseInventory } from '../inventory/load.js';
import { testRejections } from './helpers/inventory-rejections.js';
import { deprecationWarnings } from '../inventory/deprecations.js';
import {
  resolveHost,
  resolveRetention,
  resolveSchedule,
  resolveServer,
  resolveTimeZones,
} from '../inventory/resolve.js';

const servers = 'servers: { b1: { dataset: data } }\n';
const retention = (fields: string) => `${servers}hosts: { vpn: { address: vpn.example.org, retention: ${fields} } }`;
const server = (fields: string) => `servers: { b1: { dataset: data, ${fields} } }\nhosts: {}`;

/** [inventory text, the message it must produce (a line of it)] */
const malformed: Array<[string, RegExp]> = [
  [
    retention('{ weekStartsOn: 7 }'),
    /^hosts\.vpn\.retention\.weekStartsOn: expected 0 \(Sunday\) to 6 \(Saturday\), got 7$/m,
  ],
  [
    retention('{ weekStartsOn: -1 }'),
    /^hosts\.vpn\.retention\.weekStartsOn: expected 0 \(Sunday\) to 6 \(Saturday\), got -1$/m,
  ],
  [
    retention('{ weekStartsOn: 1.5 }'),
    /^hosts\.vpn\.retention\.weekStartsOn: expected 0 \(Sunday\) to 6 \(Saturday\), got 1\.5$/m,
  ],
  [
    retention('{ weekStartsOn: monday }'),
    /^hosts\.vpn\.retention\.weekStartsOn: expected 0 \(Sunday\) to 6 \(Saturday\), got "monday"$/m,
  ],
  [
    retention('{ daily: -1 }'),
    /^hosts\.vpn\.retention\.daily: expected a whole number of periods, 0 or more, got -1$/m,
  ],
  [
    retention('{ weekly: 2.5 }'),
    /^hosts\.vpn\.retention\.weekly: expected a whole number of periods, 0 or more, got 2\.5$/m,
  ],
  [
    retention('{ monthly: "12" }'),
    /^hosts\.vpn\.retention\.monthly: expected a whole number of periods, 0 or more, got "12"$/m,
  ],
  [
    retention('{ yearly: null }'),
    /^hosts\.vpn\.retention\.yearly: expected a whole number of periods, 0 or more, got null$/m,
  ],
  [
    retention('{ hourly: true }'),
    /^hosts\.vpn\.retention\.hourly: expected a whole number of periods, 0 or more, got true$/m,
  ],
  [
    retention('{ keepWithin: "36 hours" }'),
    /^hosts\.vpn\.retention\.keepWithin: expected a duration such as "30s", "10m", "1h30m" or "7d", got "36 hours"$/m,
  ],
  [retention('{ keepWithin: 36 }'), /^hosts\.vpn\.retention\.keepWithin: expected a duration such as "30s".*got 36$/m],
  [
    retention('{ timeZone: "Mars/Olympus_Mons" }'),
    /^hosts\.vpn\.retention\.timeZone: expected an IANA time zone such as "Europe\/Amsterdam", got "Mars\/Olympus_Mons"$/m,
  ],
  [retention('{ timeZone: "" }'), /^hosts\.vpn\.retention\.timeZone: expected an IANA time zone .*got ""$/m],
  [retention('{ timeZone: 1 }'), /^hosts\.vpn\.retention\.timeZone: expected an IANA time zone .*got 1$/m],
  [retention('{ dayly: 7 }'), /^hosts\.vpn\.retention\.dayly: unknown key; remove it or check its spelling$/m],
  [
    retention('"7 days"'),
    /^hosts\.vpn\.retention: expected a mapping such as \{ daily: 7, weekly: 4, monthly: 12, yearly: 3 \}, got "7 days"$/m,
  ],
  [retention('[7, 4]'), /^hosts\.vpn\.retention: expected a mapping such as/m],
  [
    `${servers}defaults: { retention: { monthly: -3 } }\nhosts: {}`,
    /^defaults\.retention\.monthly: expected a whole number of periods, 0 or more, got -3$/m,
  ],
  [
    `${servers}defaults: { retention: { timeZone: "CEST" } }\nhosts: {}`,
    /^defaults\.retention\.timeZone: expected an IANA time zone .*got "CEST"$/m,
  ],
  [server('adopt: { sown: "yes" }'), /^servers\.b1\.adopt\.sown: expected true or false, got "yes"$/m],
  [server('adopt: { planb: 1 }'), /^servers\.b1\.adopt\.planb: expected true or false, got 1$/m],
  [server('adopt: { bacula: true }'), /^servers\.b1\.adopt\.bacula: unknown key; remove it or check its spelling$/m],
  [server('adopt: true'), /^servers\.b1\.adopt: expected a mapping such as \{ sown: true, planb: true \}, got true$/m],
];

testRejections(malformed, 70);

test('every problem of a policy is reported at once, one line each', () => {
  assert.throws(
    () => parseInventory(retention('{ daily: -1, weekStartsOn: 9, timeZone: Nowhere }')),
    (error: Error) => {
      const lines = error.message.split('\n');
      assert.equal(lines.length, 3, error.message);
      assert.ok(
        lines.every((line) => line.startsWith('hosts.vpn.retention.')),
        error.message,
      );
      return true;
    },
  );
});

test('no retention anywhere: daily 7, weekly 4, monthly 12, yearly 3 in UTC (the one default zone), weeks from Monday', () => {
  const inventory = parseInventory(`${servers}hosts: { vpn: { address: vpn.example.org } }`);
  assert.deepEqual(resolveRetention(inventory, 'vpn'), {
    daily: 7,
    weekly: 4,
    monthly: 12,
    yearly: 3,
    timeZone: 'UTC',
  });
});

test('timezone (host, else defaults) is the zone of both the schedule and retention', () => {
  const inventory = parseInventory(
    `${servers}defaults: { timezone: Europe/Amsterdam }\nhosts: { vpn: { address: vpn.example.org }, db: { address: db.example.org, timezone: Asia/Tokyo } }`,
  );
  assert.deepEqual(resolveTimeZones(inventory, 'vpn'), { schedule: 'Europe/Amsterdam', retention: 'Europe/Amsterdam' });
  assert.equal(resolveRetention(inventory, 'vpn').timeZone, 'Europe/Amsterdam');
  assert.equal(resolveSchedule(inventory, 'vpn').timezone, 'Europe/Amsterdam');
  assert.equal(resolveRetention(inventory, 'db').timeZone, 'Asia/Tokyo');
  assert.deepEqual(deprecationWarnings(inventory), []);
});

test('the old retention.timeZone still works, with a WARNING naming timezone, and a mismatch is never silent', () => {
  const inventory = parseInventory(
    `${servers}defaults: { timezone: Europe/Amsterdam }\nhosts: { vpn: { address: vpn.example.org, retention: { timeZone: Asia/Tokyo } }, db: { address: db.example.org, timezone: America/New_York, retention: { timeZone: America/New_York } } }`,
  );
  assert.equal(resolveRetention(inventory, 'vpn').timeZone, 'Asia/Tokyo');
  assert.equal(resolveSchedule(inventory, 'vpn').timezone, 'Europe/Amsterdam');
  const warnings = deprecationWarnings(inventory);
  assert.ok(
    warnings.includes(
      'hosts.vpn.retention.timeZone is deprecated: write hosts.vpn.timezone: Asia/Tokyo instead (one zone for the schedule and retention)',
    ),
    warnings.join('\n'),
  );
  assert.ok(
    warnings.some((line) =>
      /^hosts\.vpn: retention counts days in Asia\/Tokyo .* schedule runs in Europe\/Amsterdam/.test(line),
    ),
    warnings.join('\n'),
  );
  assert.ok(warnings.some((line) => line.startsWith('hosts.db.retention.timeZone is deprecated')));
  assert.ok(!warnings.some((line) => line.startsWith('hosts.db: retention counts')), 'same zone: no mismatch line');
});

test('host fields merge over defaults.retention; keepWithin becomes milliseconds; zone and week start are kept', () => {
  const inventory = parseInventory(
    `${servers}defaults: { retention: { daily: 14, weekly: 8, timeZone: Europe/Amsterdam } }\n` +
      'hosts: { vpn: { address: vpn.example.org, retention: { hourly: 24, weekly: 0, keepWithin: "36h", weekStartsOn: 0 } }, db: { address: db.example.org } }',
  );
  assert.deepEqual(resolveRetention(inventory, 'vpn'), {
    daily: 14,
    weekly: 0,
    hourly: 24,
    keepWithin: 36 * 3_600_000,
    weekStartsOn: 0,
    timeZone: 'Europe/Amsterdam',
  });
  assert.deepEqual(resolveRetention(inventory, 'db'), { daily: 14, weekly: 8, timeZone: 'Europe/Amsterdam' });
});

test('a policy naming any class keeps only what it names; one naming none gets the default counts', () => {
  const inventory = parseInventory(
    `${servers}hosts: { a: { address: a.example.org, retention: { hourly: 24 } }, b: { address: b.example.org, retention: { timeZone: America/New_York, keepWithin: 2d } }, c: { address: c.example.org, retention: { daily: 0 } } }`,
  );
  assert.deepEqual(resolveRetention(inventory, 'a'), { hourly: 24, timeZone: 'UTC' });
  assert.deepEqual(resolveRetention(inventory, 'b'), {
    daily: 7,
    weekly: 4,
    monthly: 12,
    yearly: 3,
    keepWithin: 2 * 86_400_000,
    timeZone: 'America/New_York',
  });
  assert.deepEqual(
    resolveRetention(inventory, 'c'),
    { daily: 0, timeZone: 'UTC' },
    'an explicit 0 everywhere keeps only the protected snapshots',
  );
});

test('every policy the schema accepts resolves to one the retention plan works with', () => {
  const samples = [
    '{}',
    '{ hourly: 0, daily: 1, weekly: 2, monthly: 3, yearly: 4 }',
    '{ keepWithin: 1h30m, weekStartsOn: 6 }',
    '{ timeZone: Pacific/Chatham, weekStartsOn: 0 }',
  ];
  const snapshots = [
    { name: 'tidemark-20261120T020000Z', createdAt: 1_795_000_000, holds: 0 },
    { name: 'tidemark-20261121T020000Z', createdAt: 1_795_100_000, holds: 0 },
  ];
  for (const sample of samples) {
    const policy = resolveRetention(parseInventory(retention(sample)), 'vpn');
    assert.ok(
      Object.values(policy).every((value) => value !== undefined),
      `${sample}: ${JSON.stringify(policy)}`,
    );
    const plan = planRetention({ snapshots, policy, now: Date.UTC(2026, 10, 22), backupSucceeded: true });
    assert.equal(plan.verdicts.length, snapshots.length, sample);
    assert.ok(!plan.destroy.includes(snapshots[1]!.name), `${sample}: the newest complete snapshot stays`);
  }
});

test('adoption is off unless a server turns it on', () => {
  const inventory = parseInventory(
    'servers: { b1: { dataset: data }, b2: { dataset: tank/backup, adopt: { sown: true } }, b3: { dataset: old, adopt: { sown: true, planb: true } } }\nhosts: { vpn: { address: vpn.example.org } }',
  );
  const host = resolveHost(inventory, 'vpn');
  assert.deepEqual(resolveServer(inventory, host, 'b1').adopt, { sown: false, planb: false });
  assert.deepEqual(resolveServer(inventory, host, 'b2').adopt, { sown: true, planb: false });
  assert.deepEqual(resolveServer(inventory, host, 'b3').adopt, { sown: true, planb: true });
});

test("planBackup carries the policy in UTC by default, whatever the backup server's own zone", async () => {
  const dir = mkdtempSync('/tmp/tidemark-retention-inventory-');
  const path = join(dir, 'tidemark.yaml');
  writeFileSync(
    path,
    `servers: { b1: { dataset: data, adopt: { planb: true } } }\nhosts: { vpn: { address: vpn.example.org, retention: { daily: 3 } } }`,
  );
  const zone = process.env.TZ;
  try {
    process.env.TZ = 'America/Sao_Paulo';
    const plan = await planBackup(path, { host: 'vpn', server: 'b1' });
    assert.deepEqual(plan.retention, {
      policy: { daily: 3, timeZone: 'UTC' },
      adopt: { sown: false, planb: true },
    });
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});

test('planBackup refuses an unusable --keep reason before anything runs', async () => {
  const dir = mkdtempSync('/tmp/tidemark-retention-inventory-');
  const path = join(dir, 'tidemark.yaml');
  writeFileSync(path, `${servers}hosts: { vpn: { address: vpn.example.org } }`);
  await assert.rejects(
    planBackup(path, { host: 'vpn', server: 'b1', keep: 'line one\nline two' }),
    /--keep: a reason may not contain tabs, newlines/,
  );
  await assert.rejects(planBackup(path, { host: 'vpn', server: 'b1', keep: '  ' }), /--keep: give a reason/);
  assert.equal((await planBackup(path, { host: 'vpn', server: 'b1', keep: 'before upgrade' })).host, 'vpn');
});

test('keep reasons: printable text up to 200 characters', () => {
  assert.equal(keepReasonProblem('before upgrade to 24.04 (ticket #123)'), undefined);
  assert.equal(keepReasonProblem('ünïcödé = fine'), undefined);
  assert.match(keepReasonProblem('')!, /give a reason/);
  assert.match(keepReasonProblem('x'.repeat(201))!, /at most 200 characters/);
  assert.match(keepReasonProblem('tab\there')!, /control characters/);
});
