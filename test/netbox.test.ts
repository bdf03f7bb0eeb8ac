// NetBox as a host source, against a NetBox-shaped HTTP server on 127.0.0.1:
// pagination, tags, custom fields, 401/500/timeouts; the scheduled sync applies it and the API token
// never appears in any workflow history.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../devenv/process.js';
import type { ScheduledBackupInput, SyncReport } from '../domain/schedule-spec.js';
import { fetchNetboxHosts, NetboxError, resolveNetboxConfig, type NetboxConfig } from '../inventory/netbox.js';
import { parseInventory } from '../inventory/load.js';
import { inventoryForRun, mergeNetboxHosts } from '../inventory/sources.js';
import { resolveHost } from '../inventory/resolve.js';
import { backupScheduleId, syncScheduleId } from '../schedule/desired.js';
import { backupTag, startFakeNetbox, type FakeNetbox, type FakeObject } from './helpers/fake-netbox.js';
import { createSandbox, type Sandbox } from './helpers/schedules.js';
import { asText, historyText } from './helpers/history.js';

const token = 'nb-secret-0123456789abcdef-TOKEN';
let netbox: FakeNetbox;
let box: Sandbox;
let b1: string;
let b2: string;
let tokenFile: string;

const tagged = (
  id: number,
  name: string | null,
  ip: string | null,
  customFields: Record<string, unknown> = {},
): FakeObject => ({
  id,
  name,
  primary_ip: ip ? { address: ip } : null,
  tags: [backupTag],
  custom_fields: customFields,
});

function fillNetbox(): void {
  netbox.devices = [
    tagged(1, 'VPN', '10.0.0.5/24', { backup_servers: b1, backup_paths: '/etc\n/srv', backup_schedule: 'every 6h' }),
    tagged(2, 'web', null),
    tagged(3, 'db', '2001:db8::5/64', { backup_excludes: ['*.tmp', '/var/cache/'], backup_enabled: false }),
    tagged(4, null, '10.0.0.9/24'),
    tagged(5, 'bad', '10.0.0.10/24', { backup_servers: 'nosuch' }),
    { id: 6, name: 'printer', primary_ip: { address: '10.0.0.11/24' }, tags: [{ name: 'Other', slug: 'other' }] },
  ];
  netbox.machines = [
    tagged(101, 'mail', '10.0.1.7/32', { backup_schedule: 'cron 30 2 * * *', backup_blackout: null }),
    tagged(102, 'WEB', '10.0.1.8/32'),
    tagged(103, 'ns1', '10.0.1.53/32', { backup_schedule: 'hourly' }),
  ];
}

const config = (overrides: Partial<NetboxConfig> = {}): NetboxConfig => ({
  url: netbox.url,
  tag: 'Backup',
  address: 'primary_ip',
  timeoutMs: 5_000,
  tokenEnv: 'NB_TOKEN',
  ...overrides,
});
const env = { NB_TOKEN: token };

before(async () => {
  box = await createSandbox('netbox');
  b1 = box.server('b1');
  b2 = box.server('b2');
  netbox = await startFakeNetbox(token);
  fillNetbox();
  tokenFile = join(box.dir, 'netbox-token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
});
after(async () => {
  await netbox.close();
  await box.close();
});

test('pages through devices and VMs, keeps tagged objects only, reads addresses and custom fields', async () => {
  netbox.requests = [];
  netbox.ignoreTagFilter = true; // the client checks tags itself too
  const answer = await fetchNetboxHosts(config(), env);
  netbox.ignoreTagFilter = false;
  assert.deepEqual(
    answer.hosts.map((host) => [host.name, host.kind, host.entry]),
    [
      ['bad', 'device', { address: '10.0.0.10', servers: ['nosuch'] }],
      ['db', 'device', { address: '2001:db8::5', excludes: ['*.tmp', '/var/cache/'], enabled: false }],
      ['mail', 'virtual-machine', { address: '10.0.1.7', schedule: { cron: '30 2 * * *' } }],
      ['ns1', 'virtual-machine', { address: '10.0.1.53', schedule: 'hourly' }],
      ['vpn', 'device', { address: '10.0.0.5', servers: [b1], paths: ['/etc', '/srv'], schedule: { every: '6h' } }],
      ['web', 'device', { address: 'web' }],
      ['web', 'virtual-machine', { address: '10.0.1.8' }],
    ],
  );
  assert.deepEqual(answer.warnings, [
    'netbox: device web has no primary IP; using its name as the ssh target',
    'netbox: device 4 has no name; skipped',
  ]);
  const devicePages = netbox.requests.filter((request) => request.path.startsWith('/api/dcim/devices/'));
  assert.equal(devicePages.length, 3, 'six devices at two per page: three pages, following next links');
  assert.ok(
    devicePages.every(
      (page) =>
        new URL(page.path, 'http://x').searchParams.get('fields') ===
        'id,name,primary_ip,primary_ip4,primary_ip6,tags,custom_fields',
    ),
    'only the fields Tidemark reads are asked for',
  );
  assert.match(devicePages[2]!.path, /offset=4/);
  assert.ok(
    netbox.requests.every((request) => request.authorization === `Token ${token}`),
    'every page (next links rewritten to our origin) carried the token to 127.0.0.1 only',
  );

  const bySlug = await fetchNetboxHosts(config({ tag: 'backup' }), env);
  assert.equal(bySlug.hosts.length, 7, 'the tag matches by slug too');
  await assert.rejects(
    fetchNetboxHosts(config({ tag: 'Backups' }), env),
    /NetBox has no tag named or slugged "Backups"/,
  );
  const byName = await fetchNetboxHosts(config({ address: 'name' }), env);
  assert.equal(byName.hosts.find((host) => host.name === 'vpn')?.entry.address, 'vpn');
});

test('NetBox adds hosts; a host the YAML file defines takes nothing from NetBox unless fillYamlHosts; bad custom fields skip the host', async () => {
  const inventory = parseInventory(
    `servers: { ${b1}: { dataset: data }, ${b2}: { dataset: data2 } }\nnetbox: { url: "${netbox.url}", tokenEnv: NB_TOKEN }\nhosts:\n  mail: { address: mail.example.org, paths: [/var/mail] }\n  local: { address: 10.9.0.1 }\n`,
  );
  const merged = mergeNetboxHosts(inventory, await fetchNetboxHosts(resolveNetboxConfig(inventory.netbox!), env));
  assert.deepEqual(Object.keys(merged.inventory.hosts).sort(), ['db', 'local', 'mail', 'ns1', 'vpn', 'web']);
  assert.equal(merged.inventory.hosts.mail?.address, 'mail.example.org', 'YAML wins');
  assert.deepEqual(merged.inventory.hosts.mail?.paths, ['/var/mail']);
  assert.equal(merged.inventory.hosts.mail?.schedule, undefined, 'NetBox does not fill a host the YAML file defines');
  assert.match(
    merged.warnings.join('\n'),
    /netbox: virtual-machine mail: backup_schedule ignored: the inventory file defines this host/,
  );
  assert.match(
    merged.warnings.join('\n'),
    /netbox: device bad skipped: backup_servers \(servers\.0\): unknown server; define it under "servers"/,
  );
  assert.match(
    merged.warnings.join('\n'),
    /netbox: virtual-machine web \(virtual-machine 102\) left out: device 2 has the same name and is backed up; rename one in NetBox to back up both/,
  );
  const filling = parseInventory(
    `servers: { ${b1}: { dataset: data } }\nnetbox: { url: "${netbox.url}", tokenEnv: NB_TOKEN, fillYamlHosts: true }\nhosts:\n  mail: { address: mail.example.org, paths: [/var/mail] }\n`,
  );
  const filled = mergeNetboxHosts(filling, await fetchNetboxHosts(resolveNetboxConfig(filling.netbox!), env));
  assert.deepEqual(
    filled.inventory.hosts.mail?.schedule,
    { cron: '30 2 * * *' },
    'with fillYamlHosts NetBox fills what YAML leaves out',
  );
  assert.equal(filled.inventory.hosts.mail?.address, 'mail.example.org', 'and the YAML still wins');
  assert.deepEqual(merged.counts, { yaml: 2, netbox: 6 });
  // What planBackup sees: the worker reads NetBox itself for a host the file does not define.
  const planned = resolveHost(await inventoryForRun(inventory, 'vpn', env), 'vpn');
  assert.deepEqual([planned.address, planned.paths, planned.servers], ['10.0.0.5', ['/etc', '/srv'], [b1]]);
});

test('NetBox 4.7 shapes: selection objects and raw values alike, emptied selections unset, bad and repeated names explained', async () => {
  const saved = { devices: netbox.devices, machines: netbox.machines };
  const choice = (value: string) => ({ value, label: value.toUpperCase() });
  netbox.devices = [
    tagged(1, 'sel', '10.0.0.5/24', {
      backup_servers: [choice(b2)],
      backup_schedule: choice('hourly'),
      backup_blackout: [choice('01:00-02:00')],
      backup_enabled: true,
    }),
    tagged(2, 'cleared', '10.0.0.6/24', {
      backup_servers: [],
      backup_blackout: [],
      backup_paths: '',
      backup_schedule: null,
    }),
    tagged(3, 'dev 117', '10.0.0.7/24'),
    tagged(4, 'twin', '10.0.0.8/24', { backup_servers: [choice('nosuch')] }),
    {
      ...tagged(5, 'dual', '2001:db8::9/64'),
      primary_ip4: { address: '10.0.0.9/24' },
      primary_ip6: { address: '2001:db8::9/64' },
    },
  ];
  netbox.machines = [tagged(101, 'twin', '10.0.1.8/32')];
  try {
    const inventory = parseInventory(
      `servers: { ${b1}: { dataset: data }, ${b2}: { dataset: data2 } }\nnetbox: { url: "${netbox.url}", tokenEnv: NB_TOKEN }\nhosts: {}\n`,
    );
    const merged = mergeNetboxHosts(inventory, await fetchNetboxHosts(resolveNetboxConfig(inventory.netbox!), env));
    const hosts = merged.inventory.hosts;
    assert.deepEqual(Object.keys(hosts).sort(), ['cleared', 'dual', 'sel', 'twin']);
    assert.deepEqual(
      [hosts.sel?.servers, hosts.sel?.schedule, hosts.sel?.blackout, hosts.sel?.enabled],
      [[b2], 'hourly', ['01:00-02:00'], true],
    );
    assert.deepEqual(
      resolveHost(merged.inventory, 'cleared').servers,
      [b1, b2],
      'an emptied multi-select means every server, as an unset one does',
    );
    assert.equal(
      hosts.twin?.address,
      '10.0.1.8',
      'the valid virtual machine is used when the device of the same name is invalid',
    );
    const warnings = merged.warnings.join('\n');
    assert.match(
      warnings,
      /netbox: device 3 skipped: its name "?dev 117"? is not a host name \(letters, digits, "-" and "\."\); rename it in NetBox/,
    );
    assert.match(warnings, /netbox: device twin skipped: backup_servers \(servers\.0\): unknown server/);
    assert.equal(hosts.dual?.address, '2001:db8::9', 'primary_ip is what NetBox calls primary (IPv6 here)');
    const ipv4 = await fetchNetboxHosts(
      resolveNetboxConfig({ url: netbox.url, tokenEnv: 'NB_TOKEN', address: 'primary_ip4' }),
      env,
    );
    assert.equal(ipv4.hosts.find((host) => host.name === 'dual')?.entry.address, '10.0.0.9');
    assert.equal(
      ipv4.hosts.find((host) => host.name === 'sel')?.entry.address,
      'sel',
      'no primary IPv4 or IPv6: the name',
    );
    assert.match(ipv4.warnings.join('\n'), /netbox: device sel has no primary IP; using its name as the ssh target/);
  } finally {
    Object.assign(netbox, saved);
  }
});

test('401, 500, a hanging NetBox, a closed port and a missing token fail with a message and never the token', async () => {
  const failures: Array<[() => Promise<unknown>, RegExp]> = [
    [
      () => fetchNetboxHosts(config(), { NB_TOKEN: 'wrong-token' }),
      /^NetBox at http:\/\/127\.0\.0\.1:\d+ refused the API token \(HTTP 401\) for \/api\/extras\/tags\/\?name=Backup; check \$NB_TOKEN$/,
    ],
    [
      async () => {
        netbox.mode = 'error';
        try {
          return await fetchNetboxHosts(config(), env);
        } finally {
          netbox.mode = 'ok';
        }
      },
      /^NetBox at http:\/\/127\.0\.0\.1:\d+ answered HTTP 500 for \/api\/extras\/tags\/\?name=Backup: \{"error":"database is locked".*; check NetBox's own log$/,
    ],
    [
      async () => {
        netbox.mode = 'hang';
        try {
          return await fetchNetboxHosts(config({ timeoutMs: 500 }), env);
        } finally {
          netbox.mode = 'ok';
        }
      },
      /^NetBox at http:\/\/127\.0\.0\.1:\d+ did not answer \/api\/extras\/tags\/\?name=Backup within 0\.5s; check that NetBox is up and not overloaded, or raise netbox\.timeout$/,
    ],
    [
      () => fetchNetboxHosts(config({ url: 'http://127.0.0.1:1' }), env),
      /^cannot reach NetBox at http:\/\/127\.0\.0\.1:1: ECONNREFUSED; check that NetBox runs and that netbox\.url is right$/,
    ],
    [() => fetchNetboxHosts(config(), {}), /^the environment variable NB_TOKEN \(netbox\.tokenEnv\) is not set$/],
    [
      () => fetchNetboxHosts(config({ tokenFile: '/nonexistent/token' }), env),
      /^cannot read the NetBox token file \/nonexistent\/token: ENOENT$/,
    ],
  ];
  for (const [attempt, message] of failures) {
    await assert.rejects(attempt(), (error: Error) => {
      assert.ok(error instanceof NetboxError, String(error));
      assert.match(error.message, message);
      assert.ok(!error.message.includes(token));
      return true;
    });
  }
});

test('the scheduled syncInventory applies NetBox hosts, and the token is in no workflow history', async () => {
  const inventoryPath = await box.writeInventory({
    servers: { [b1]: { dataset: 'data' }, [b2]: { dataset: 'data2' } },
    netbox: { url: netbox.url, tokenFile },
    sync: { every: '15m' },
    hosts: { local: { address: '10.9.0.1', schedule: { cron: '0 0 1 1 *' } } },
  });
  await box.startWorker(inventoryPath);

  const workflowId = `sync-once-${box.suffix}`;
  const report = await box.runSyncInventory(workflowId);
  assert.deepEqual(report.errors, []);
  // local + db, mail, ns1, web on both servers, vpn on b1 only (backup_servers), plus the sync schedule itself.
  assert.equal(report.created, 2 + 8 + 1 + 1, report.lines.join('\n'));
  assert.ok(report.lines.includes(`+ sync-inventory:${box.taskQueue} every 15m`));
  assert.ok(report.lines.some((line) => line.startsWith(`+ db@${b1} daily `) && line.endsWith('(disabled)')));
  assert.match(report.warnings.join('\n'), /device bad skipped/);

  const vpn = await box.client.schedule.getHandle(backupScheduleId('vpn', b1)).describe();
  const input = vpn.action.args?.[0] as ScheduledBackupInput;
  assert.deepEqual(input, { host: 'vpn', server: b1 }, 'a schedule names the pair; the worker reads the settings');
  assert.equal(
    (await box.client.schedule.getHandle(backupScheduleId('db', b2)).describe()).state.paused,
    true,
    'backup_enabled: false',
  );

  // The schedule's own run: trigger it and wait for the run to finish (nothing to change by now).
  const syncSchedule = box.client.schedule.getHandle(syncScheduleId(box.taskQueue));
  assert.deepEqual((await syncSchedule.describe()).spec.intervals, [{ every: 900_000, offset: 0 }]);
  await syncSchedule.trigger();
  await waitFor('the scheduled sync ran', async () => (await syncSchedule.describe()).info.recentActions.length === 1);
  const scheduledRun = (await syncSchedule.describe()).info.recentActions[0]!.action.workflow;
  const second = (await box.client.workflow
    .getHandle(scheduledRun.workflowId, scheduledRun.firstExecutionRunId)
    .result()) as SyncReport;
  assert.deepEqual([second.created, second.updated, second.deleted, second.unchanged], [0, 0, 0, 12]);

  for (const [id, run] of [
    [workflowId, undefined],
    [scheduledRun.workflowId, scheduledRun.firstExecutionRunId],
  ] as const) {
    const bytes = await historyText(box.client, id, run);
    assert.ok(bytes.includes('device bad skipped'), 'payloads are searchable as bytes (sanity check of the search)');
    assert.ok(!bytes.includes(token), `token found in the history of ${id}`);
  }
  const described = await box.client.schedule.getHandle(backupScheduleId('vpn', b1)).describe();
  assert.ok(!asText(described.raw).includes(token), 'nor in the schedule');
});

test('an erroring NetBox changes no schedule; a NetBox answer with far fewer hosts needs --force', async () => {
  const inventoryPath = join(box.dir, 'tidemark.yaml');
  const before = await box.ownedIds();
  assert.equal(before.length, 11);

  netbox.mode = 'error';
  const failed = await box.cli(inventoryPath, ['sync']);
  netbox.mode = 'ok';
  assert.equal(failed.exitCode, 1);
  assert.match(
    failed.stderr,
    /^tidemark: NetBox at http:\/\/127\.0\.0\.1:\d+ answered HTTP 500 for \/api\/extras\/tags\/\?name=Backup: .*; no schedule was changed$/m,
  );
  assert.ok(!failed.stderr.includes(token) && !failed.stdout.includes(token));

  const devices = netbox.devices;
  const machines = netbox.machines;
  netbox.devices = [];
  netbox.machines = [];
  try {
    const refused = await box.cli(inventoryPath, ['sync']);
    assert.equal(refused.exitCode, 1, refused.stdout + refused.stderr);
    assert.match(
      refused.stdout,
      /^NOT APPLIED: 5 of 6 hosts would lose their schedules \(more than half\); check the inventory source, then run "tidemark sync --force" if this is right$/m,
    );
    assert.match(refused.stdout, new RegExp(`^- vpn@${b1}$`, 'm'));
    assert.deepEqual(await box.ownedIds(), before);
  } finally {
    netbox.devices = devices;
    netbox.machines = machines;
  }
});
