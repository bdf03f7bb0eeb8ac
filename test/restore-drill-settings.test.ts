// Scheduled restore drills without services: the `verify` settings (errors naming the field, host > group >
// defaults > server, `config check --explain`'s origin), the drill schedules sync wants, how a drill's verify
// report is judged, the status reasons and the metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judged } from '../activities/restore-drill.js';
import { judgePair, type DrillInput } from '../fleet/verdict.js';
import { explainHost } from '../inventory/explain.js';
import { parseInventory } from '../inventory/load.js';
import { resolveVerify } from '../inventory/resolve.js';
import { desiredDrillSchedules, drillScheduleId } from '../schedule/desired.js';
import { renderMetrics } from '../worker/metrics.js';
import { testRejections } from './helpers/inventory-rejections.js';

const servers = 'servers: { b1: { dataset: data } }\n';
const host = (fields: string) => `${servers}hosts: { vpn: { address: vpn.example.org, ${fields} } }`;

testRejections([
  [host('verify: { every: 7 }'), /^hosts\.vpn\.verify\.every: expected a drill period such as "7d"/m],
  [host('verify: { every: "10m" }'), /^hosts\.vpn\.verify\.every: expected a drill period .*\(at least 1h\)/m],
  [host('verify: { every: "weekly" }'), /^hosts\.vpn\.verify\.every: expected a drill period/m],
  [host('verify: { every: "7d", sample: 0 }'), /^hosts\.vpn\.verify\.sample: expected a number of files from 1/m],
  [host('verify: { every: "7d", sample: 2.5 }'), /^hosts\.vpn\.verify\.sample: expected a number of files/m],
  [host('verify: { evry: "7d" }'), /^hosts\.vpn\.verify\.evry: unknown key; remove it or check its spelling$/m],
  [
    'servers: { b1: { dataset: data, verify: { every: "1m" } } }\nhosts: {}',
    /^servers\.b1\.verify\.every: expected a drill period/m,
  ],
  [`${servers}hosts: {}\ndefaults: { verify: { sample: -1 } }`, /^defaults\.verify\.sample: expected a number/m],
]);

const layered = parseInventory(`
servers:
  b1: { dataset: data, verify: { every: "14d", sample: 10 } }
  b2: { dataset: data }
groups:
  web: { verify: { every: "7d" } }
hosts:
  www: { address: www.example.org, group: web, verify: { sample: 30 } }
  db: { address: db.example.org }
  off: { address: off.example.org, enabled: false, verify: { every: "1d" } }
`);

test('verify fields resolve one by one: host > group > defaults > server; none without `every` anywhere', () => {
  assert.deepEqual(resolveVerify(layered, 'www', 'b1'), { every: '7d', everyMs: 7 * 86_400_000, sample: 30 });
  assert.deepEqual(resolveVerify(layered, 'db', 'b1'), { every: '14d', everyMs: 14 * 86_400_000, sample: 10 });
  assert.equal(resolveVerify(layered, 'db', 'b2'), undefined);
  assert.deepEqual(resolveVerify(layered, 'off', 'b2'), { every: '1d', everyMs: 86_400_000, sample: 200 });
});

test('config check --explain names where each verify field comes from, the server included', () => {
  const of = (name: string) =>
    Object.fromEntries(explainHost(layered, name).map((item) => [item.setting, [item.value, item.origin]]));
  assert.deepEqual(of('www')['verify.every'], ['7d', 'group web']);
  assert.deepEqual(of('www')['verify.sample'], [30, 'host']);
  assert.deepEqual(of('db')['verify.every'], ['14d', 'server b1']);
  assert.deepEqual(of('db')['verify.sample'], [10, 'server b1']);
});

test('sync wants one drill schedule per pair with drills, spread over the period, paused with its host', () => {
  const wanted = desiredDrillSchedules(layered);
  assert.deepEqual(
    wanted.map((schedule) => schedule.scheduleId),
    [
      drillScheduleId('db', 'b1'),
      drillScheduleId('off', 'b1'),
      drillScheduleId('off', 'b2'),
      drillScheduleId('www', 'b1'),
      drillScheduleId('www', 'b2'),
    ],
  );
  for (const schedule of wanted) {
    assert.equal(schedule.kind, 'verify');
    const action = schedule.options.action;
    assert.equal(action.type === 'startWorkflow' && action.workflowType, 'restoreDrill');
    assert.deepEqual(action.type === 'startWorkflow' && action.args, [
      { host: schedule.host, server: schedule.server },
    ]);
    const [interval] = schedule.options.spec.intervals ?? [];
    assert.ok(interval && Number(interval.offset) < Number(interval.every), JSON.stringify(interval));
  }
  assert.deepEqual(
    wanted.filter((schedule) => !schedule.enabled).map((schedule) => schedule.host),
    ['off', 'off'],
  );
  // Many pairs of one period land at many different offsets, not all at once.
  const many = parseInventory(
    `servers: { b1: { dataset: data, verify: { every: "1d" } } }\nhosts:\n${Array.from(
      { length: 40 },
      (_, index) => `  h${index}: { address: h${index}.example.org }`,
    ).join('\n')}\n`,
  );
  const offsets = new Set(
    desiredDrillSchedules(many).map((schedule) => Number(schedule.options.spec.intervals?.[0]?.offset)),
  );
  assert.ok(offsets.size >= 35, `${offsets.size} distinct offsets of 40`);
  // The hash changes with the settings, so sync updates exactly the changed drills.
  const [before] = desiredDrillSchedules(parseInventory(host('verify: { every: "7d" }')));
  const [after] = desiredDrillSchedules(parseInventory(host('verify: { every: "7d", sample: 5 }')));
  const [again] = desiredDrillSchedules(parseInventory(host('verify: { every: "2d" }')));
  assert.equal(before!.hash, desiredDrillSchedules(parseInventory(host('verify: { every: "7d" }')))[0]!.hash);
  assert.notEqual(before!.hash, again!.hash);
  assert.notEqual(before!.summary, after!.summary);
  assert.deepEqual(desiredDrillSchedules(parseInventory(host('port: 22'))), []);
});

const report = (fields: Record<string, unknown>) =>
  JSON.stringify({
    dataset: 'data/vpn',
    snapshot: 'tidemark-20261201T000000Z',
    sampled: 3,
    verified: 3,
    mismatched: 0,
    skipped: 0,
    restoreCheck: { identical: 3, differing: [] },
    ...fields,
  });

test("a drill's verdict from verify's exit code and report", () => {
  assert.equal(judged('vpn', 'b1', 0, report({}), '').status, 'SUCCESS');
  const mismatch = judged('vpn', 'b1', 1, report({ verified: 2, mismatched: 1 }), '');
  assert.equal(mismatch.status, 'FAILED');
  assert.match(mismatch.message, /FAILED: 1 file\(s\) differ from the host/);
  const restored = judged('vpn', 'b1', 1, report({ restoreCheck: { differing: [{ path: '/a' }] } }), '');
  assert.equal(restored.status, 'FAILED');
  const nothing = judged('vpn', 'b1', 0, report({ verified: 0, skipped: 3 }), '');
  assert.equal(nothing.status, 'WARNING');
  assert.match(nothing.message, /nothing was proved/);
  const broken = judged('vpn', 'b1', 2, '', 'tidemark: no complete snapshot to verify\n');
  assert.deepEqual(
    [broken.status, broken.message],
    ['FAILED', 'restore drill failed: tidemark: no complete snapshot to verify'],
  );
});

const now = new Date('2026-12-01T12:00:00Z');
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
const freshBackup = [{ status: 'SUCCESS' as const, startedAt: hoursAgo(2), closedAt: hoursAgo(1.9) }];
const withDrill = (drill: DrillInput) =>
  judgePair({ host: 'vpn', server: 'b1', runs: freshBackup, now, expectedIntervalMs: 86_400_000, drill });
const week = { every: '7d', everyMs: 7 * 86_400_000 };

test('status: a pair whose last drill failed, or is older than its period, or never ran once due, is WARNING', () => {
  const passed = withDrill({ ...week, last: { status: 'SUCCESS', startedAt: hoursAgo(24), closedAt: hoursAgo(23) } });
  assert.deepEqual([passed.verdict, passed.reasons], ['OK', []]);
  const failed = withDrill({
    ...week,
    last: { status: 'FAILED', startedAt: hoursAgo(24), closedAt: hoursAgo(23), message: '1 file(s) differ' },
  });
  assert.deepEqual([failed.verdict, failed.reasons], ['WARNING', ['last restore drill FAILED: 1 file(s) differ']]);
  const old = withDrill({ ...week, last: { status: 'SUCCESS', startedAt: hoursAgo(24 * 8), closedAt: hoursAgo(191) } });
  assert.equal(old.verdict, 'WARNING');
  assert.deepEqual(old.reasons, ['last restore drill 8d00h ago, older than its period 7d']);
  const none = withDrill(week);
  assert.deepEqual([none.verdict, none.reasons], ['WARNING', ['no restore drill on record (verify every 7d)']]);
  const notDue = withDrill({ ...week, firstDueAt: hoursAgo(-5) });
  assert.deepEqual([notDue.verdict, notDue.reasons], ['OK', []]);
  // A backup problem stays the more serious reason.
  const both = judgePair({
    host: 'vpn',
    server: 'b1',
    runs: [{ status: 'FAILED', startedAt: hoursAgo(1), closedAt: hoursAgo(0.9) }, ...freshBackup],
    now,
    drill: { ...week, last: { status: 'FAILED', startedAt: hoursAgo(24) } },
  });
  assert.equal(both.verdict, 'CRITICAL');
  assert.deepEqual(both.reasons, ['last run FAILED', 'last restore drill FAILED']);
});

test("the metrics page shows each pair's last drill: when, and 0 passed / 2 failed", async () => {
  const drill = (status: 'SUCCESS' | 'FAILED') => ({
    host: 'vpn',
    server: 'b1',
    runId: 'r',
    status,
    finishedAt: '2026-12-01T10:00:00.000Z',
    verified: 3,
    mismatched: status === 'FAILED' ? 1 : 0,
    message: '',
  });
  const text = await renderMetrics([
    { host: 'vpn', server: 'b1', drill: drill('FAILED') },
    { host: 'web', server: 'b1', drill: { ...drill('SUCCESS'), host: 'web' } },
    { host: 'db', server: 'b1' },
  ]);
  assert.match(text, /^tidemark_last_drill_status\{host="vpn",server="b1"\} 2$/m);
  assert.match(text, /^tidemark_last_drill_status\{host="web",server="b1"\} 0$/m);
  assert.doesNotMatch(text, /^tidemark_last_drill_status\{host="db"/m);
  assert.match(
    text,
    new RegExp(
      `^tidemark_last_drill_timestamp_seconds\\{host="vpn",server="b1"\\} ${Date.parse('2026-12-01T10:00:00Z') / 1000}$`,
      'm',
    ),
  );
});
