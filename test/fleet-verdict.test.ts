// `tidemark status` judges each (host, server) pair from its runs: Nagios verdicts, ages, the plugin line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleetVerdict, judgePair, nagiosLine, verdictExitCode, type RunRecord } from '../fleet/verdict.js';
import { parseNagiosLine } from './helpers/nagios.js';
import { parseInventory } from '../inventory/load.js';
import { resolveStaleness } from '../inventory/resolve.js';

const now = new Date('2026-12-01T12:00:00Z');
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
const run = (status: RunRecord['status'], startedHoursAgo: number, tookHours = 0.5): RunRecord => ({
  status,
  startedAt: hoursAgo(startedHoursAgo),
  ...(status === 'RUNNING' ? {} : { closedAt: hoursAgo(startedHoursAgo - tookHours) }),
  bytes: 1000,
});
const judge = (runs: RunRecord[], extra: { staleMs?: number; lastSuccess?: RunRecord } = {}) =>
  judgePair({ host: 'vpn', server: 'b1', runs, now, ...extra });

test('a pair without runs is CRITICAL "never backed up", with nulls for every time', () => {
  const pair = judge([]);
  assert.equal(pair.verdict, 'CRITICAL');
  assert.deepEqual(pair.reasons, ['never backed up']);
  assert.equal(pair.lastStatus, null);
  assert.equal(pair.lastRunAt, null);
  assert.equal(pair.lastSuccessAt, null);
});

test("a pair that never ran is OK until its schedule's first due time, CRITICAL after it", () => {
  const base = { host: 'vpn', server: 'b1', runs: [], now };
  const early = judgePair({ ...base, firstDueAt: hoursAgo(-3) });
  assert.equal(early.verdict, 'OK');
  assert.deepEqual(early.reasons, []);
  assert.equal(early.lastStatus, null);
  const late = judgePair({ ...base, firstDueAt: hoursAgo(1) });
  assert.equal(late.verdict, 'CRITICAL');
  assert.deepEqual(late.reasons, ['never backed up']);
  // A run that already failed is judged as such, due or not.
  const failed = judgePair({ ...base, runs: [run('FAILED', 1)], firstDueAt: hoursAgo(-3) });
  assert.equal(failed.verdict, 'CRITICAL');
});

test('the newest run (by start) is the last run, whatever order visibility returned', () => {
  const pair = judge([run('FAILED', 30), run('SUCCESS', 6, 1), run('WARNING', 20)]);
  assert.equal(pair.lastStatus, 'SUCCESS');
  assert.equal(pair.lastRunAt, hoursAgo(6).toISOString());
  assert.equal(pair.lastRunDurationMs, 3_600_000);
  assert.equal(pair.lastSuccessAt, hoursAgo(5).toISOString(), 'a success counts from when it ended');
  assert.equal(pair.lastSuccessAgeMs, 5 * 3_600_000);
  assert.equal(pair.verdict, 'OK');
});

test('last run FAILED is CRITICAL even with an older success; WARNING and CANCELLED are WARNING', () => {
  const failed = judge([run('FAILED', 1), run('SUCCESS', 25)]);
  assert.equal(failed.verdict, 'CRITICAL');
  assert.deepEqual(failed.reasons, ['last run FAILED']);
  assert.equal(failed.lastSuccessAt, hoursAgo(24.5).toISOString());
  assert.equal(judge([run('WARNING', 1)]).verdict, 'WARNING');
  assert.equal(judge([run('CANCELLED', 1), run('SUCCESS', 3)]).verdict, 'WARNING');
});

test('only failed runs: never backed up and FAILED, both named', () => {
  const pair = judge([run('FAILED', 1), run('FAILED', 2)]);
  assert.equal(pair.verdict, 'CRITICAL');
  assert.equal(pair.reasons.length, 2);
  assert.match(pair.reasons[0]!, /^never backed up \(2 run\(s\)/);
});

test('a run in progress does not hide the verdict of the one before it', () => {
  const pair = judge([run('RUNNING', 0.1), run('FAILED', 24), run('SUCCESS', 48)]);
  assert.equal(pair.lastStatus, 'RUNNING');
  assert.equal(pair.verdict, 'CRITICAL');
  assert.equal(pair.lastRunDurationMs, 0.1 * 3_600_000, 'a running run has lasted until now');
  assert.equal(judge([run('RUNNING', 0.1), run('SUCCESS', 24)]).verdict, 'OK');
});

test('--stale: a success older than the limit is WARNING; a newer one is OK; the separately fetched success counts', () => {
  assert.equal(judge([run('SUCCESS', 3)], { staleMs: 3_600_000 }).verdict, 'WARNING');
  assert.match(
    judge([run('SUCCESS', 3)], { staleMs: 3_600_000 }).reasons[0]!,
    /last SUCCESS 2h30m ago, older than --stale/,
  );
  assert.equal(judge([run('SUCCESS', 3)], { staleMs: 4 * 3_600_000 }).verdict, 'OK');
  const olderSuccess = judge([run('WARNING', 1)], { staleMs: 48 * 3_600_000, lastSuccess: run('SUCCESS', 30) });
  assert.equal(olderSuccess.lastSuccessAt, hoursAgo(29.5).toISOString());
  assert.deepEqual(olderSuccess.reasons, ['last run WARNING']);
  assert.deepEqual(judge([run('WARNING', 1)], { staleMs: 3_600_000 }).reasons, [
    'last run WARNING',
    'no SUCCESS on record',
  ]);
});

test('the fleet verdict is the worst pair; exit codes are Nagios codes', () => {
  const ok = judge([run('SUCCESS', 1)]);
  const warning = judge([run('WARNING', 1)]);
  const critical = judge([]);
  assert.equal(fleetVerdict([ok]), 'OK');
  assert.equal(fleetVerdict([ok, warning]), 'WARNING');
  assert.equal(fleetVerdict([warning, critical, ok]), 'CRITICAL');
  assert.deepEqual([verdictExitCode.OK, verdictExitCode.WARNING, verdictExitCode.CRITICAL], [0, 1, 2]);
});

test('--nagios: one plugin line naming the problem pairs, with counts and the oldest success age as perfdata', () => {
  const pairs = [
    judgePair({ host: 'vpn', server: 'b1', runs: [run('SUCCESS', 2, 0.5)], now, staleMs: 3 * 3_600_000 }),
    judgePair({ host: 'db', server: 'b1', runs: [run('FAILED', 1)], now, staleMs: 3 * 3_600_000 }),
    judgePair({ host: 'web', server: 'b1', runs: [], now, staleMs: 3 * 3_600_000 }),
  ];
  const line = nagiosLine(pairs, 3 * 3_600_000);
  const parsed = parseNagiosLine(line);
  assert.equal(parsed.service, 'TIDEMARK');
  assert.equal(parsed.status, 'CRITICAL');
  assert.match(parsed.text, /2 critical, 0 warning of 3 pairs: .*db@b1 never backed up.*web@b1 never backed up/);
  assert.equal(parsed.perfdata.get('pairs')!.value, 3);
  assert.equal(parsed.perfdata.get('ok')!.value, 1);
  assert.equal(parsed.perfdata.get('critical')!.value, 2);
  assert.equal(parsed.perfdata.get('never')!.value, 2);
  assert.deepEqual(parsed.perfdata.get('oldest_success_age'), {
    value: 1.5 * 3600,
    uom: 's',
    fields: [String(3 * 3600), '', '0'],
  });
  assert.match(nagiosLine([pairs[0]!]), /^TIDEMARK OK: 1 pairs fresh and good \| /);
});

test('by default a pair is judged against its schedule interval: WARNING past 2 ×, CRITICAL past 4 ×', () => {
  const daily = 24 * 3_600_000;
  const at = (hours: number) =>
    judgePair({ host: 'vpn', server: 'b1', runs: [run('SUCCESS', hours, 0.5)], now, expectedIntervalMs: daily });
  assert.equal(at(20).verdict, 'OK');
  const stale = at(60);
  assert.equal(stale.verdict, 'WARNING');
  assert.match(stale.reasons[0]!, /^last SUCCESS 2d\S* ago, more than 2 × its interval 1d/);
  const dead = at(5 * 24);
  assert.equal(dead.verdict, 'CRITICAL');
  assert.match(dead.reasons[0]!, /more than 4 × its interval 1d/);
  assert.equal(verdictExitCode[dead.verdict], 2);
  const custom = judgePair({
    host: 'vpn',
    server: 'b1',
    runs: [run('SUCCESS', 60, 0.5)],
    now,
    expectedIntervalMs: daily,
    staleAfter: 3,
    criticalAfter: 6,
  });
  assert.equal(custom.verdict, 'OK', 'the multiples can be raised');
});

test('a paused pair shows PAUSED with its note and still goes stale', () => {
  const fresh = judgePair({
    host: 'vpn',
    server: 'b1',
    runs: [run('SUCCESS', 2)],
    now,
    expectedIntervalMs: 24 * 3_600_000,
    paused: 'paused by alice: disk swap',
  });
  assert.equal(fresh.verdict, 'WARNING');
  assert.deepEqual(fresh.reasons, ['PAUSED (paused by alice: disk swap)']);
  assert.equal(fresh.paused, 'paused by alice: disk swap');
  const stale = judgePair({
    host: 'vpn',
    server: 'b1',
    runs: [run('SUCCESS', 24 * 10)],
    now,
    expectedIntervalMs: 24 * 3_600_000,
    paused: '',
  });
  assert.equal(stale.verdict, 'CRITICAL');
  assert.deepEqual(stale.reasons.at(-1), 'PAUSED');
});

test("a FAILED row carries the failure's first line", () => {
  const pair = judgePair({
    host: 'vpn',
    server: 'b1',
    runs: [run('FAILED', 1), run('SUCCESS', 25)],
    now,
    failure: 'backup of vpn on b1 failed during transfer: ssh: connect to host vpn port 22: Connection refused',
  });
  assert.deepEqual(pair.reasons, [
    'last run FAILED: backup of vpn on b1 failed during transfer: ssh: connect to host vpn port 22: Connection refused',
  ]);
});

test('perfdata never reports 0 s for a fleet that was never backed up: the age is U (undetermined)', () => {
  const line = nagiosLine([judgePair({ host: 'web', server: 'b1', runs: [], now })]);
  assert.match(line, / oldest_success_age=U;;;0$/);
  assert.ok(Number.isNaN(parseNagiosLine(line).perfdata.get('oldest_success_age')!.value));
});

test('staleAfter and criticalAfter: the host wins over defaults, defaults over the server; bad values name the field', () => {
  const inventory = parseInventory(`
servers:
  b1: { dataset: data, staleAfter: 3, criticalAfter: 8 }
defaults: { criticalAfter: 6 }
hosts:
  vpn: { address: 10.0.0.1, staleAfter: 1.5 }
  db: { address: 10.0.0.2 }
`);
  assert.deepEqual(resolveStaleness(inventory, 'vpn', 'b1'), { staleAfter: 1.5, criticalAfter: 6 });
  assert.deepEqual(resolveStaleness(inventory, 'db', 'b1'), { staleAfter: 3, criticalAfter: 6 });
  assert.throws(
    () => parseInventory('servers: { b1: { dataset: data } }\nhosts: { vpn: { address: 10.0.0.1, staleAfter: 0 } }'),
    /hosts\.vpn\.staleAfter: expected a multiple of the schedule interval, 1-1000/,
  );
});

test('a WARNING run that completed a streak monitoring was told as FAILED is CRITICAL, with the reason', () => {
  const pair = judgePair({
    host: 'vpn',
    server: 'b1',
    runs: [run('WARNING', 1), run('WARNING', 25), run('WARNING', 49), run('SUCCESS', 73)],
    now,
    escalation: '3 runs in a row held back by the same guard, shrink held (guards.heldRunsBeforeFailed 3)',
  });
  assert.equal(pair.verdict, 'CRITICAL');
  assert.deepEqual(pair.reasons, [
    'last run WARNING, reported to monitoring as FAILED: 3 runs in a row held back by the same guard, shrink held (guards.heldRunsBeforeFailed 3)',
  ]);
  assert.equal(judge([run('WARNING', 1), run('SUCCESS', 25)]).verdict, 'WARNING');
});
