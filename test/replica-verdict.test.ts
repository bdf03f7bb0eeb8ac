// A replica's verdict (fleet/replica-verdict.ts): its lag against the host's schedule interval like a backup's
// last success, folded into the pair's row, shown in a cell and in the Nagios perfdata.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { snapshotName } from '../domain/names.js';
import { describeReplica, judgeReplica, withReplica, type ReplicationRecord } from '../fleet/replica-verdict.js';
import { judgePair, nagiosLine } from '../fleet/verdict.js';
import { parseNagiosLine } from './helpers/nagios.js';

const now = new Date('2026-12-01T12:00:00Z');
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
const day = 86_400_000;
/** A replication started `startedHoursAgo` that left a snapshot taken `takenHoursAgo` on the target. */
const replication = (
  status: ReplicationRecord['status'],
  startedHoursAgo: number,
  takenHoursAgo?: number,
): ReplicationRecord => ({
  status,
  startedAt: hoursAgo(startedHoursAgo),
  ...(takenHoursAgo !== undefined ? { snapshot: snapshotName(hoursAgo(takenHoursAgo), 'complete') } : {}),
  ...(status === 'RUNNING' ? {} : { bytesSent: 4096 }),
  ...(status === 'FAILED' ? { message: 'zfs receive: out of space\nmore' } : {}),
});
const judge = (runs: ReplicationRecord[], extra: { staleAfter?: number; criticalAfter?: number } = {}) =>
  judgeReplica({ source: 'b1', runs, now, expectedIntervalMs: day, ...extra });

test('a fresh replica is OK with its lag, snapshot and bytes sent', () => {
  const replica = judge([replication('SUCCESS', 1, 1.5), replication('SUCCESS', 25, 25.5)]);
  assert.equal(replica.verdict, 'OK');
  assert.deepEqual(replica.reasons, []);
  assert.equal(replica.lagMs, 1.5 * 3_600_000);
  assert.equal(replica.snapshot, snapshotName(hoursAgo(1.5), 'complete'));
  assert.equal(replica.bytesSent, 4096);
  assert.equal(replica.lastStatus, 'SUCCESS');
  assert.equal(replica.warningAfterMs, 2 * day);
  assert.equal(replica.criticalAfterMs, 4 * day);
  assert.equal(describeReplica(replica), 'from b1: 1h30m old, 4.0K sent');
});

test('a stale replica is WARNING past staleAfter intervals, CRITICAL past criticalAfter, like a stale backup', () => {
  const warning = judge([replication('SUCCESS', 50, 50)]);
  assert.equal(warning.verdict, 'WARNING');
  assert.match(
    warning.reasons[0]!,
    /^replica from b1: newest replicated snapshot 2d02h old, more than 2 × its interval 1d00h/,
  );
  const critical = judge([replication('SUCCESS', 100, 100)]);
  assert.equal(critical.verdict, 'CRITICAL');
  assert.match(critical.reasons[0]!, /more than 4 × its interval 1d00h/);
  // Overridden multiples (servers.<target>.replication.staleAfter/criticalAfter).
  assert.equal(judge([replication('SUCCESS', 50, 50)], { staleAfter: 3, criticalAfter: 6 }).verdict, 'OK');
  assert.equal(judge([replication('SUCCESS', 100, 100)], { staleAfter: 3, criticalAfter: 6 }).verdict, 'WARNING');
});

test('runs that replicated nothing do not refresh the lag; a failed last replication warns', () => {
  // Newer runs: a failure, a diverged WARNING (the target's own pull), one still running.
  const runs = [
    replication('RUNNING', 0.1),
    replication('FAILED', 2),
    replication('WARNING', 3, 3),
    replication('SUCCESS', 30, 30),
  ];
  const replica = judge(runs);
  assert.equal(replica.lagMs, 30 * 3_600_000);
  assert.equal(replica.lastStatus, 'RUNNING');
  assert.equal(replica.verdict, 'WARNING');
  assert.deepEqual(replica.reasons, ['replica from b1: last replication FAILED: zfs receive: out of space']);
});

test('never replicated is CRITICAL unless the pair is not due yet; a cron schedule shows the lag unjudged', () => {
  const never = judge([]);
  assert.equal(never.verdict, 'CRITICAL');
  assert.deepEqual(never.reasons, ['replica from b1: never replicated']);
  assert.equal(never.lagMs, null);
  assert.equal(describeReplica(never), 'from b1: never replicated');
  assert.equal(judgeReplica({ source: 'b1', runs: [], now, notDueYet: true }).verdict, 'OK');
  const cron = judgeReplica({ source: 'b1', runs: [replication('SUCCESS', 500, 500)], now });
  assert.equal(cron.verdict, 'OK');
  assert.equal(cron.warningAfterMs, undefined);
});

test("the pair's row takes the worse verdict and both reasons; the plugin line carries the lag per replica", () => {
  // The target's own runs succeed without pulling: fresh as a pair, stale as a replica.
  const pair = judgePair({
    host: 'vpn',
    server: 'b2',
    runs: [{ status: 'SUCCESS', startedAt: hoursAgo(2), closedAt: hoursAgo(2) }],
    now,
    expectedIntervalMs: day,
  });
  assert.equal(pair.verdict, 'OK');
  const row = withReplica(pair, judge([replication('SUCCESS', 100, 100)]));
  assert.equal(row.verdict, 'CRITICAL');
  assert.match(row.reasons[0]!, /^replica from b1/);
  const other = judgePair({ host: 'web', server: 'b1', runs: [], now });
  const line = nagiosLine([row, other]);
  const parsed = parseNagiosLine(line);
  assert.equal(parsed.status, 'CRITICAL');
  const lag = parsed.perfdata.get("'replica_lag_vpn@b2'");
  assert.deepEqual(lag, { value: 100 * 3600, uom: 's', fields: [String(2 * 86400), String(4 * 86400), '0'] });
  assert.deepEqual(parsed.perfdata.get("'replica_sent_vpn@b2'")?.value, 4096);
  // Pairs without replication add nothing to the plugin line.
  assert.ok(![...parseNagiosLine(nagiosLine([other])).perfdata.keys()].some((key) => key.includes('replica')));
});
