// The worker's state file: crash-safe writes, damaged files moved aside (never a reason for a run to
// fail, and reported), readers that survive them; and the partial-run streak that escalates to FAILED.
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BackupStatus, BackupSummary } from '../domain/backup.js';
import { escalatedSummaries, escalationIn } from '../domain/notify.js';
import {
  applyOutcome,
  heldGuardOf,
  emptyState,
  loadState,
  recordOutcomeInFile,
  writeStateFile,
  type StateFile,
} from '../notify/state.js';
import { renderMetrics, startMetricsServer } from '../worker/metrics.js';
import { goodSummary } from './helpers/summaries.js';

const complete = goodSummary;
const partial: BackupSummary = {
  ...complete,
  status: 'WARNING',
  snapshot: 'data/vpn@tidemark-20261123T101500Z-partial',
  message:
    'partial transfer (rsync exit 23), snapshot tidemark-20261123T101500Z-partial labelled partial: permission denied',
};
const cancelled: BackupSummary = { ...complete, status: 'CANCELLED', snapshot: null, message: 'cancelled' };
const at = new Date('2026-11-23T10:15:00.000Z');

async function scratch(): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp('/tmp/tidemark-state-');
  return { dir, path: join(dir, 'state.json') };
}

/** The file must be a state Tidemark itself would accept, holding these runs. */
async function assertValidState(path: string, runs: Record<string, string>): Promise<StateFile> {
  const loaded = await loadState(path);
  assert.equal(loaded.damaged, undefined, `${path} is a valid state file`);
  const found = Object.fromEntries(Object.entries(loaded.state.hosts).map(([key, entry]) => [key, entry.last.runId]));
  assert.deepEqual(found, runs);
  return loaded.state;
}

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
}

for (const [what, content, reason] of [
  ['not JSON', '{"version":1,"hosts":{"vpn@b1":', /not valid JSON/],
  ['an empty file', '', /not valid JSON/],
  ['another version', '{"version":2,"hosts":{}}', /version/],
  ['hosts missing', '{"version":1}', /hosts/],
  ['an entry without its last run', '{"version":1,"hosts":{"vpn@b1":{"host":"vpn","server":"b1"}}}', /vpn@b1/],
] as const) {
  test(`state file that is ${what}: moved aside, a fresh state from this run, reported as a warning`, async () => {
    const { dir, path } = await scratch();
    await writeFile(path, content);
    const recorded = await recordOutcomeInFile(path, complete, 'r1', { at });
    assert.match(recorded.warning ?? '', reason);
    const aside = `${path}.corrupt-20261123T101500.000Z`;
    assert.match(recorded.warning ?? '', new RegExp(`moved aside to ${aside.replace(/\./g, '\\.')}`));
    assert.equal(await readFile(aside, 'utf8'), content, 'the damaged content is kept as it was');
    await assertValidState(path, { 'vpn@b1': 'r1' });
    assert.deepEqual(await leftovers(dir), []);
    // The next run finds a good file again: nothing more to report.
    const next = await recordOutcomeInFile(path, complete, 'r2', { at });
    assert.equal(next.warning, undefined);
    assert.equal(next.previousStatus, 'SUCCESS');
  });
}

test('state file truncated mid-write (a crash before this fix): moved aside; a second damage the same millisecond gets its own name', async () => {
  const { dir, path } = await scratch();
  await recordOutcomeInFile(path, complete, 'r1', { at });
  const whole = await readFile(path, 'utf8');
  await writeFile(path, whole.slice(0, Math.floor(whole.length / 2)));
  const first = await recordOutcomeInFile(path, { ...complete, host: 'db' }, 'r2', { at });
  assert.match(first.warning ?? '', /not valid JSON/);
  await assertValidState(path, { 'db@b1': 'r2' });
  await writeFile(path, '{"version":1,"hosts":[]}');
  const second = await recordOutcomeInFile(path, complete, 'r3', { at });
  assert.match(second.warning ?? '', /corrupt-20261123T101500\.000Z-1/);
  const asides = (await readdir(dir)).filter((name) => name.includes('.corrupt-')).sort();
  assert.deepEqual(asides, ['state.json.corrupt-20261123T101500.000Z', 'state.json.corrupt-20261123T101500.000Z-1']);
  assert.equal(await readFile(join(dir, asides[0]!), 'utf8'), whole.slice(0, Math.floor(whole.length / 2)));
});

test('state file: an unreadable file is an error, never overwritten as if damaged', async () => {
  const { path } = await scratch();
  await import('node:fs/promises').then(({ mkdir }) => mkdir(path));
  await assert.rejects(recordOutcomeInFile(path, complete, 'r1', { at }), /EISDIR/);
  assert.ok((await lstat(path)).isDirectory());
  await assert.rejects(loadState(path), /EISDIR/);
});

test('state write: a stale temporary file (even a symlink) is never reused; the new file is private', async () => {
  const { dir, path } = await scratch();
  const victim = join(dir, 'victim');
  await writeFile(victim, 'not yours\n');
  // The name the old code always used, left by a crash and replaced by a symlink.
  await symlink(victim, `${path}.${process.pid}.tmp`);
  await recordOutcomeInFile(path, complete, 'r1', { at });
  assert.equal(await readFile(victim, 'utf8'), 'not yours\n');
  const stat = await lstat(path);
  assert.ok(stat.isFile(), 'the state is a regular file, not the stale symlink');
  assert.equal(stat.mode & 0o777, 0o600);
  await assertValidState(path, { 'vpn@b1': 'r1' });

  // A random name that happens to exist is skipped for a fresh one.
  const stale = join(dir, 'state.json.stale.tmp');
  await writeFile(stale, 'left by a crash\n');
  const names = [stale, join(dir, 'state.json.fresh.tmp')];
  const state = applyOutcome(emptyState(), complete, 'r2', at).state;
  await writeStateFile(path, state, () => names.shift()!);
  assert.equal(await readFile(stale, 'utf8'), 'left by a crash\n');
  assert.deepEqual(names, [], 'both names were tried');
  await assertValidState(path, { 'vpn@b1': 'r2' });
  assert.deepEqual(
    (await leftovers(dir)).sort(),
    [`state.json.${process.pid}.tmp`, 'state.json.stale.tmp'],
    'nothing of ours is left behind',
  );
});

test('state file: concurrent records in one process, after a damaged file, lose no run and report it once', async () => {
  const { dir, path } = await scratch();
  await writeFile(path, '{"version":1,"hosts":');
  const hosts = Array.from({ length: 25 }, (_, index) => `h${index}`);
  const results = await Promise.all(
    hosts.map((host, index) => recordOutcomeInFile(path, { ...complete, host }, `r${index}`, { at })),
  );
  assert.equal(results.filter((result) => result.warning).length, 1);
  await assertValidState(path, Object.fromEntries(hosts.map((host, index) => [`${host}@b1`, `r${index}`])));
  assert.deepEqual(await leftovers(dir), []);
  assert.equal((await readdir(dir)).filter((name) => name.includes('.corrupt-')).length, 1);
});

test('state readers: a damaged file reads as empty with the reason; a missing one as empty without', async () => {
  const { path } = await scratch();
  assert.deepEqual(await loadState(path), { state: emptyState() });
  await writeFile(
    path,
    '{"version":1,"hosts":{"vpn@b1":{"host":"vpn","server":"b1","last":{"runId":"r1","status":"BROKEN","finishedAt":"x"}}}}',
  );
  const loaded = await loadState(path);
  assert.deepEqual(loaded.state, emptyState());
  assert.match(loaded.damaged ?? '', /vpn@b1.*status/);
});

test('metrics: a damaged state file is scraped as empty and reported once, not on every scrape', async (t) => {
  const { path } = await scratch();
  await writeFile(path, '{"version":1,"hosts":{"vpn@b1":');
  const warnings: string[] = [];
  const server = await startMetricsServer({
    listen: '127.0.0.1:0',
    server: 'b1',
    stateFile: path,
    serverDataset: 'tidemark-no-such-pool/backup',
    warn: (message) => warnings.push(message),
  });
  t.after(() => server.close());
  const url = server.url;
  assert.doesNotMatch(url, /:0\//, 'the address actually bound');
  for (let scrape = 0; scrape < 3; scrape += 1) {
    const response = await fetch(url);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.doesNotMatch(text, /^tidemark_last_status\{/m);
    assert.match(text, /^# TYPE tidemark_last_status gauge$/m);
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`${path}.*not valid JSON`));
  await recordOutcomeInFile(path, complete, 'r1', { at });
  assert.match(await (await fetch(url)).text(), /^tidemark_last_status\{host="vpn",server="b1"\} 0$/m);
  assert.equal(warnings.length, 1);
});

/** Records runs in order; returns each one's escalation. */
function streak(
  runs: [BackupSummary, string][],
  partialRunsBeforeFailed = 3,
): { escalations: (string | undefined)[]; previous: (BackupStatus | undefined)[]; state: StateFile } {
  let state = emptyState();
  const escalations: (string | undefined)[] = [];
  const previous: (BackupStatus | undefined)[] = [];
  runs.forEach(([summary, runId], index) => {
    const result = applyOutcome(
      state,
      summary,
      runId,
      new Date(at.getTime() + index * 60_000),
      partialRunsBeforeFailed,
    );
    state = result.state;
    escalations.push(result.escalation);
    previous.push(result.previousStatus);
  });
  return { escalations, previous, state };
}

test('partial streak: the third partial run in a row escalates, and every one after it', () => {
  const { escalations, state } = streak([
    [partial, 'r1'],
    [partial, 'r2'],
    [partial, 'r3'],
    [partial, 'r4'],
  ]);
  assert.deepEqual(escalations.slice(0, 2), [undefined, undefined]);
  assert.equal(escalations[2], '3 partial runs in a row (guards.partialRunsBeforeFailed 3)');
  assert.equal(escalations[3], '4 partial runs in a row (guards.partialRunsBeforeFailed 3)');
  assert.equal(state.hosts['vpn@b1']!.partialStreak, 4);
  assert.equal(state.hosts['vpn@b1']!.last.status, 'WARNING', 'the run keeps its own status');
});

test('partial streak: any other finished run resets it; a cancelled one neither counts nor resets', () => {
  assert.deepEqual(
    streak([
      [partial, 'r1'],
      [complete, 'r2'],
      [partial, 'r3'],
    ]).escalations,
    [undefined, undefined, undefined],
  );
  const failedWithoutSnapshot: BackupSummary = { ...complete, status: 'FAILED', snapshot: null };
  assert.deepEqual(
    streak([
      [partial, 'r1'],
      [partial, 'r2'],
      [failedWithoutSnapshot, 'r3'],
      [partial, 'r4'],
    ]).escalations.at(-1),
    undefined,
  );
  const withCancel = streak([
    [partial, 'r1'],
    [partial, 'r2'],
    [cancelled, 'r3'],
    [partial, 'r4'],
  ]);
  assert.deepEqual(withCancel.escalations, [
    undefined,
    undefined,
    undefined,
    '3 partial runs in a row (guards.partialRunsBeforeFailed 3)',
  ]);
  // A partial snapshot of a run that failed (a hook failed, the copy went on) is still a partial run.
  const hookFailed: BackupSummary = { ...partial, status: 'FAILED' };
  assert.equal(
    streak([
      [partial, 'r1'],
      [hookFailed, 'r2'],
      [partial, 'r3'],
    ]).escalations.at(-1),
    '3 partial runs in a row (guards.partialRunsBeforeFailed 3)',
  );
});

test('partial streak: a retried record of the same run counts once and answers the same', () => {
  const { escalations } = streak([
    [partial, 'r1'],
    [partial, 'r2'],
    [partial, 'r2'],
    [partial, 'r3'],
    [partial, 'r3'],
  ]);
  assert.deepEqual(escalations, [
    undefined,
    undefined,
    undefined,
    '3 partial runs in a row (guards.partialRunsBeforeFailed 3)',
    '3 partial runs in a row (guards.partialRunsBeforeFailed 3)',
  ]);
  assert.equal(
    streak([[partial, 'r1']], 1).escalations[0],
    '1 partial runs in a row (guards.partialRunsBeforeFailed 1)',
  );
});

test('partial streak: monitoring was told FAILED, so the next good run is a recovery and metrics say 2', async () => {
  const { previous, state } = streak([
    [partial, 'r1'],
    [partial, 'r2'],
    [partial, 'r3'],
  ]);
  assert.deepEqual(previous, [undefined, 'WARNING', 'WARNING']);
  const text = await renderMetrics([{ host: 'vpn', server: 'b1', state: state.hosts['vpn@b1']! }]);
  assert.match(text, /^tidemark_last_status\{host="vpn",server="b1"\} 2$/m);
  const after = applyOutcome(state, complete, 'r4', at);
  assert.equal(after.previousStatus, 'FAILED');
  assert.equal(after.state.hosts['vpn@b1']!.partialStreak, 0);
  assert.match(
    await renderMetrics([{ host: 'vpn', server: 'b1', state: after.state.hosts['vpn@b1']! }]),
    /^tidemark_last_status\{host="vpn",server="b1"\} 0$/m,
  );
});

test('partial streak: older state files without the streak start from zero', () => {
  const { state } = streak([[partial, 'r1']]);
  const old = structuredClone(state);
  delete old.hosts['vpn@b1']!.partialStreak;
  const next = applyOutcome(old, partial, 'r2', at, 2);
  assert.equal(next.escalation, undefined);
  assert.equal(next.state.hosts['vpn@b1']!.partialStreak, 1);
});

test('escalated summaries: targets get FAILED with the reason first; the run keeps its status with a note', () => {
  const escalation = '3 partial runs in a row (guards.partialRunsBeforeFailed 3)';
  const { toTargets, toCaller } = escalatedSummaries(partial, escalation);
  assert.equal(toTargets.status, 'FAILED');
  assert.equal(toTargets.message, `${escalation}: ${partial.message}`);
  assert.equal(toTargets.snapshot, partial.snapshot);
  assert.equal(toCaller.status, 'WARNING');
  assert.equal(toCaller.message, `${partial.message}; ${escalation}, reported to monitoring as FAILED`);
  assert.deepEqual(escalatedSummaries(partial, undefined), { toTargets: partial, toCaller: partial });
});

test('held streak: the same guard holding run after run escalates at guards.heldRunsBeforeFailed; another guard starts afresh', () => {
  const shrinkHeld: BackupSummary = {
    ...complete,
    status: 'WARNING',
    snapshot: 'data/vpn@tidemark-20261123T101500Z-suspect',
    message: 'shrink held: rsync stopped deleting at --max-delete=50 (…)',
  };
  const notMounted: BackupSummary = {
    ...complete,
    status: 'WARNING',
    message: 'not mounted this time, copy kept: /srv',
  };
  assert.equal(heldGuardOf(shrinkHeld), 'shrink held');
  assert.equal(heldGuardOf(notMounted), 'filesystem not mounted');
  assert.equal(heldGuardOf(partial), undefined, 'a partial run has its own streak');
  let state = emptyState();
  const escalations: (string | undefined)[] = [];
  const record = (summary: BackupSummary, runId: string, index: number) => {
    const result = applyOutcome(state, summary, runId, new Date(at.getTime() + index * 60_000), 3, 3);
    state = result.state;
    escalations.push(result.escalation);
  };
  [shrinkHeld, shrinkHeld, cancelled, notMounted, notMounted, notMounted, shrinkHeld, complete].forEach(
    (summary, index) => record(summary, `r${index}`, index),
  );
  assert.deepEqual(escalations, [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    '3 runs in a row held back by the same guard, filesystem not mounted (guards.heldRunsBeforeFailed 3)',
    undefined,
    undefined,
  ]);
  assert.equal(state.hosts['vpn@b1']!.heldStreak, undefined, 'a good run ends the streak');
  // Two held runs, a cancelled one, a third: escalated (a cancel neither counts nor resets).
  state = emptyState();
  escalations.length = 0;
  [shrinkHeld, shrinkHeld, cancelled, shrinkHeld].forEach((summary, index) => record(summary, `s${index}`, index));
  assert.match(escalations[3] ?? '', /^3 runs in a row held back by the same guard, shrink held/);
  const { toCaller } = escalatedSummaries(shrinkHeld, escalations[3]);
  assert.equal(escalationIn(toCaller.message), escalations[3], 'status reads the escalation back from the summary');
  assert.equal(escalationIn(shrinkHeld.message), undefined);
});
