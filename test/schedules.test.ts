// `sync` turns the inventory into Temporal Schedules and keeps them in step —
// against the real Temporal dev server, with server names unique to this file.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, ScheduleNotFoundError, type Connection } from '@temporalio/client';
import type { SyncReport } from '../domain/schedule-spec.js';
import { waitFor } from '../devenv/process.js';
import { backupScheduleId } from '../schedule/desired.js';
import { createSandbox, fleet, type Sandbox } from './helpers/schedules.js';

let box: Sandbox;
let s1: string;
let s2: string;
let hosts: Record<string, Record<string, unknown>>;
const inventory = () => ({
  servers: { [s1]: { dataset: 'data' }, [s2]: { dataset: 'data2' } },
  sync: { enabled: false },
  hosts,
});
const idsOf = (host: string) => [backupScheduleId(host, s1), backupScheduleId(host, s2)];

before(async () => {
  box = await createSandbox('schedules');
  s1 = box.server('s1');
  s2 = box.server('s2');
  hosts = fleet(50);
});
after(() => box.close());

async function exists(scheduleId: string): Promise<boolean> {
  try {
    await box.client.schedule.getHandle(scheduleId).describe();
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}

test('sync creates one schedule per (host, server): 50 hosts × 2 servers = 100', async () => {
  const report = await box.sync(inventory());
  assert.deepEqual(report.errors, []);
  assert.equal(report.created, 100);
  assert.equal(report.applied, true);
  assert.equal(report.lines.length, 100);
  for (const line of report.lines)
    assert.match(line, new RegExp(`^\\+ h\\d\\d@(${s1}|${s2}) daily \\d\\d:\\d\\d\\+30m$`));

  const description = await box.client.schedule.getHandle(backupScheduleId('h00', s1)).describe();
  assert.equal(description.action.workflowType, 'scheduledBackup');
  assert.equal(description.action.taskQueue, box.taskQueue);
  assert.deepEqual(description.action.args, [{ host: 'h00', server: s1 }]);
  assert.equal(description.policies.overlap, 'SKIP');
  assert.equal(
    description.policies.catchupWindow,
    86_400_000,
    'catch-up window explicit: one day for a daily schedule',
  );
  assert.deepEqual(description.memo, { tidemark: { owner: 'tidemark', kind: 'backup', host: 'h00', server: s1 } });
  assert.equal(description.info.nextActionTimes.length > 0, true);
  // list() is eventually consistent; later steps rely on it to find schedules to delete.
  await waitFor('100 schedules listed', async () => (await box.ownedIds()).length === 100, 30_000);
});

const describesDuring = async <T>(work: () => Promise<T>): Promise<{ result: T; describes: number }> => {
  const before = box.rpcCalls.length;
  const result = await work();
  return { result, describes: box.rpcCalls.slice(before).filter((path) => path.endsWith('/DescribeSchedule')).length };
};

test('a second sync changes nothing, and describes no schedule (the list carries each spec hash)', async () => {
  const { result: report, describes } = await describesDuring(() => box.sync(inventory()));
  assert.equal(describes, 0);
  assert.deepEqual(report.lines, []);
  assert.deepEqual([report.created, report.updated, report.deleted, report.unchanged], [0, 0, 0, 100]);
  assert.equal(
    (await box.client.schedule.getHandle(backupScheduleId('h31', s2)).describe()).info.lastUpdatedAt,
    undefined,
  );
});

test("editing one host's schedule updates exactly that host's schedules", async () => {
  hosts.h07 = { ...hosts.h07, schedule: 'hourly', blackout: ['09:00-17:00'] };
  const { result: report, describes } = await describesDuring(() => box.sync(inventory()));
  assert.ok(describes <= 4, `work proportional to the change: ${describes} describes for 2 changed schedules of 100`);
  assert.deepEqual([report.created, report.updated, report.deleted, report.unchanged], [0, 2, 0, 98]);
  assert.equal(report.lines.length, 2);
  for (const line of report.lines)
    assert.match(line, /^~ h07@\S+ hourly :\d\d\+6m \(1[56]\/day\) \(was daily \d\d:\d\d\+30m\)$/);
  const updated = await box.client.schedule.getHandle(backupScheduleId('h07', s1)).describe();
  assert.ok(updated.info.lastUpdatedAt, 'h07 was updated in place (same schedule, history kept)');
  assert.ok((updated.spec.calendars?.[0]?.hour.length ?? 0) >= 1);
  for (const other of ['h06', 'h08'])
    assert.equal(
      (await box.client.schedule.getHandle(backupScheduleId(other, s1)).describe()).info.lastUpdatedAt,
      undefined,
    );
  assert.deepEqual((await box.sync(inventory())).lines, [], 'and the next sync is quiet again');
});

/** Makes `host` hourly through `syncEdit`, reverts it with a plain sync at once, and checks both servers'
 * schedules were updated each time and are daily again. */
async function editAndRevert(host: string, syncEdit: (inventory: Record<string, unknown>) => Promise<SyncReport>) {
  const before = { ...hosts[host] };
  hosts[host] = { ...before, schedule: 'hourly' };
  const edited = await syncEdit(inventory());
  assert.equal(edited.updated, 2, edited.lines.join('\n'));
  hosts[host] = before;
  const reverted = await box.sync(inventory());
  assert.equal(reverted.updated, 2, reverted.lines.join('\n'));
  const description = await box.client.schedule.getHandle(backupScheduleId(host, s1)).describe();
  assert.match(String((description.action.memo?.tidemark as { summary?: string }).summary), /^daily /);
}

test('an edit synced and reverted at once (A → B → A) ends at A: a sync waits until the list shows what it wrote', async () => {
  await editAndRevert('h21', (inventory) => box.sync(inventory));
});

test('an edit synced while the attribute check is refused still moves the listed hash, so reverting it later is applied', async () => {
  // A client not allowed to list search attributes (a permission error from the server, injected on the
  // real connection): the sync takes the describe-everything path.
  const refused = Object.create(box.client.connection, {
    operatorService: {
      value: Object.create(box.client.connection.operatorService, {
        listSearchAttributes: {
          value: async () => {
            throw Object.assign(new Error('7 PERMISSION_DENIED: not allowed'), { code: 7 });
          },
        },
      }),
    },
  }) as Connection;
  await editAndRevert('h23', (inventory) => box.sync(inventory, { client: new Client({ connection: refused }) }));
});

test('a host removed and added back at once gets its schedules again: a sync waits until the list drops what it deleted', async () => {
  const entry = hosts.h22!;
  delete hosts.h22;
  const removed = await box.sync(inventory());
  assert.equal(removed.deleted, 2, removed.lines.join('\n'));
  hosts.h22 = entry;
  const added = await box.sync(inventory());
  assert.equal(added.created, 2, added.lines.join('\n'));
  for (const id of idsOf('h22')) assert.equal(await exists(id), true, `${id} made again`);
});

test('removing a host deletes its schedules; schedules Tidemark does not own survive', async () => {
  const someoneElse = `ops-report@${s1}`;
  const lookalike = backupScheduleId('intruder', s1);
  const squatter = backupScheduleId('h50', s1);
  for (const scheduleId of [someoneElse, lookalike, squatter]) {
    await box.client.schedule.create({
      scheduleId,
      spec: { calendars: [{ hour: 3, dayOfMonth: 1, month: 'JANUARY' }] },
      action: { type: 'startWorkflow', workflowType: 'report', taskQueue: box.taskQueue, args: [] },
      state: { paused: true },
    });
  }
  delete hosts.h13;
  hosts.h50 = { address: '10.9.9.9' };
  const report = await box.sync(inventory());
  assert.deepEqual(
    report.lines.filter((line) => line.startsWith('-')),
    [`- h13@${s1}`, `- h13@${s2}`],
  );
  const added = report.lines.filter((line) => line.startsWith('+'));
  assert.equal(added.length, 1);
  assert.match(added[0]!, new RegExp(`^\\+ h50@${s2} daily `));
  assert.deepEqual(report.errors, [`! h50@${s1}: schedule ${squatter} exists but is not Tidemark's; left alone`]);
  for (const id of idsOf('h13')) assert.equal(await exists(id), false, `${id} deleted`);
  for (const id of [someoneElse, lookalike, squatter]) assert.equal(await exists(id), true, `${id} survives`);
  const squatted = await box.client.schedule.getHandle(squatter).describe();
  assert.equal(squatted.action.workflowType, 'report', 'the foreign schedule was not rewritten');
  await box.client.schedule.getHandle(squatter).delete();
  assert.equal((await box.sync(inventory())).created, 1, 'once the id is free, Tidemark creates its own');
});

test("an operator's pause survives a sync that updates the host; enabled: false pauses and true resumes", async () => {
  await box.client.schedule.getHandle(backupScheduleId('h20', s1)).pause('paused by alice: disk swap');
  hosts.h20 = { ...hosts.h20, jitter: '10m' };
  hosts.h21 = { ...hosts.h21, enabled: false };
  const report = await box.sync(inventory());
  assert.equal(report.updated, 4);
  assert.match(
    report.lines.find((l) => l.startsWith(`~ h21@${s1} `)) ?? '',
    /^~ h21@\S+ daily \d\d:\d\d\+30m \(disabled\) \(was daily/,
  );

  const h20a = await box.client.schedule.getHandle(backupScheduleId('h20', s1)).describe();
  assert.equal(h20a.state.paused, true);
  assert.equal(h20a.state.note, 'paused by alice: disk swap');
  assert.equal((await box.client.schedule.getHandle(backupScheduleId('h20', s2)).describe()).state.paused, false);
  for (const id of idsOf('h21')) {
    const state = (await box.client.schedule.getHandle(id).describe()).state;
    assert.equal(state.paused, true);
    assert.equal(state.note, 'disabled in the inventory (enabled: false)');
  }

  hosts.h21 = { ...hosts.h21, enabled: true };
  await box.sync(inventory());
  for (const id of idsOf('h21')) assert.equal((await box.client.schedule.getHandle(id).describe()).state.paused, false);
  assert.equal(
    (await box.client.schedule.getHandle(backupScheduleId('h20', s1)).describe()).state.paused,
    true,
    "alice's pause still stands",
  );
});

test('a suspicious drop in hosts is not applied without --force', async () => {
  await waitFor('schedules listed', async () => (await box.ownedIds()).length === 100, 30_000);
  const all = hosts;
  hosts = Object.fromEntries(Object.entries(all).slice(0, 10));
  const refused = await box.sync(inventory());
  assert.equal(refused.applied, false);
  assert.match(refused.suspicious ?? '', /40 of 50 hosts would lose their schedules/);
  assert.equal(refused.deleted, 80, 'the plan is still shown');
  assert.equal(await exists(backupScheduleId('h45', s1)), true, 'nothing was deleted');

  hosts = {};
  const empty = await box.sync(inventory());
  assert.equal(empty.applied, false);
  assert.match(empty.suspicious ?? '', /lists no hosts where 50 had schedules/);

  hosts = Object.fromEntries(Object.entries(all).slice(0, 10));
  const forced = await box.sync(inventory(), { force: true });
  assert.equal(forced.applied, true);
  assert.equal(forced.deleted, 80);
  assert.equal(await exists(backupScheduleId('h45', s1)), false);
  assert.match(forced.warnings.join('\n'), /applied despite: 40 of 50 hosts/);
});

test('CLI: sync prints the plan, --dry-run changes nothing, schedules --json, pause and resume', async () => {
  const c1 = box.server('c1');
  const path = await box.writeInventory(
    {
      servers: { [c1]: { dataset: 'data' } },
      sync: { enabled: false },
      // New Year's midnight only: nothing fires while the test runs.
      defaults: { schedule: { cron: '0 0 1 1 *' }, timezone: 'Europe/Amsterdam' },
      hosts: {
        alpha: { address: '10.2.0.1' },
        beta: { address: '10.2.0.2' },
        gamma: { address: '10.2.0.3', enabled: false },
      },
    },
    'cli.yaml',
  );
  const dry = await box.cli(path, ['sync', '--dry-run']);
  assert.equal(dry.exitCode, 0, dry.stderr);
  // (a warning about the other tests' servers may follow: schedules of servers not in this inventory are left alone)
  assert.equal(
    dry.stdout.split('\n').slice(0, 4).join('\n'),
    [
      `+ alpha@${c1} cron "0 0 1 1 *" Europe/Amsterdam`,
      `+ beta@${c1} cron "0 0 1 1 *" Europe/Amsterdam`,
      `+ gamma@${c1} cron "0 0 1 1 *" Europe/Amsterdam (disabled)`,
      'dry run: 3 to create, 0 to update, 0 to delete, 0 unchanged; nothing changed',
    ].join('\n'),
  );
  assert.equal(await exists(backupScheduleId('alpha', c1)), false);

  const applied = await box.cli(path, ['sync']);
  assert.equal(applied.exitCode, 0, applied.stderr);
  assert.match(applied.stdout, /^3 created, 0 updated, 0 deleted, 0 unchanged$/m);

  const paused = await box.cli(path, ['pause', '--host', 'alpha', '--reason', 'disk swap']);
  assert.equal(paused.exitCode, 0, paused.stderr);
  assert.match(paused.stdout, new RegExp(`^paused alpha@${c1}$`, 'm'));

  const listed = await box.cli(path, ['schedules', '--json', '--server', c1]);
  assert.equal(listed.exitCode, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as Array<{
    host: string;
    kind: string;
    schedule: string;
    nextRun: string | null;
    paused: boolean;
    note: string | null;
    lastResult: string | null;
  }>;
  assert.deepEqual(
    rows.map((row) => [row.host, row.paused, row.kind]),
    [
      ['alpha', true, 'backup'],
      ['beta', false, 'backup'],
      ['gamma', true, 'backup'],
    ],
  );
  assert.match(rows[0]!.note ?? '', /^paused by \S+: disk swap$/);
  assert.equal(rows[1]!.schedule, 'cron "0 0 1 1 *" Europe/Amsterdam');
  assert.match(rows[1]!.nextRun ?? '', /^\d{4}-12-31T23:00:00\.000Z$/, 'midnight of 1 January in Amsterdam');
  assert.equal(rows[1]!.lastResult, null);

  const table = await box.cli(path, ['schedules', '--server', c1]);
  assert.match(
    table.stdout,
    /^HOST\s+SERVER\s+KIND\s+SCHEDULE\s+NEXT RUN \(schedule's zone\)\s+LAST RESULT \(UTC\)\s+PAUSED$/m,
  );
  // NEXT RUN in the zone the SCHEDULE column names (it used to be UTC beside an Amsterdam schedule).
  assert.match(
    table.stdout,
    new RegExp(
      `^beta\\s+${c1}\\s+backup\\s+cron "0 0 1 1 \\*" Europe/Amsterdam\\s+\\d{4}-01-01 00:00 \\+01:00\\s+-\\s+no$`,
      'm',
    ),
  );
  assert.equal((rows[1] as unknown as { timezone: string }).timezone, 'Europe/Amsterdam');
  assert.match(
    table.stdout,
    new RegExp(`^alpha\\s+${c1}\\s+backup\\s+cron .*yes \\(paused by \\S+: disk swap\\)$`, 'm'),
  );

  const resumed = await box.cli(path, ['resume', '--host', 'alpha', '--server', c1, '--json']);
  assert.equal(resumed.exitCode, 0, resumed.stderr);
  const [resumedRow, ...others] = JSON.parse(resumed.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(others, []);
  assert.deepEqual(
    { ...resumedRow, note: undefined },
    { host: 'alpha', server: c1, paused: false, note: undefined, disabledInInventory: false },
  );
  assert.match(String(resumedRow?.note), /^resumed by \S+$/);
  assert.equal((await box.client.schedule.getHandle(backupScheduleId('alpha', c1)).describe()).state.paused, false);

  const unknown = await box.cli(path, ['pause', '--host', 'nosuch']);
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.stderr, /no Tidemark schedule for nosuch; run "tidemark sync" first/);
  assert.match(
    (await box.cli(path, ['sync'])).stdout,
    /^0 created, 0 updated, 0 deleted, 3 unchanged$/m,
    'pause and resume are not drift',
  );
});
