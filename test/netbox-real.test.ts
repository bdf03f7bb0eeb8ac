// NetBox as a host source against a real NetBox (devenv/netbox.ts): objects and custom fields of
// NetBox's own types made through its REST API, pages smaller than the object count, and the token kept
// out of every output and history. The NetBox-shaped stand-in (netbox.test.ts) stays for what a real
// NetBox cannot be made to do (hang, answer 500).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { awaitNetboxPreparation, startNetbox, type DevNetbox } from '../devenv/netbox.js';
import { waitFor } from '../devenv/process.js';
import { fetchNetboxHosts, NetboxError, resolveNetboxConfig } from '../inventory/netbox.js';
import { backupScheduleId } from '../schedule/desired.js';
import { asText, historyText } from './helpers/history.js';
import { createSandbox, type Sandbox } from './helpers/schedules.js';

let netbox: DevNetbox;
let box: Sandbox;
let b1: string;
let b2: string;
let tokenFile: string;
let inventoryPath: string;

interface Created {
  id: number;
}

/** What each tagged, valid object should become: its servers and the fields it sets. */
const expected = new Map<string, { servers: string[]; address: string; fields?: Record<string, unknown> }>();
const pageSize = 10;
const deviceCount = 24;
const machineCount = 14;

before(
  async () => {
    // The suite runner prepares NetBox in the background and starts this file once that has ended
    // (needsNetbox in test/tiers.ts); this reports a failed preparation with its log.
    const { TIDEMARK_TEST_NETBOX_LOG: log, TIDEMARK_TEST_NETBOX_STATUS: status } = process.env;
    if (log && status) await awaitNetboxPreparation(log, status, 28 * 60_000);
    netbox = await startNetbox({ maxPageSize: pageSize });
    box = await createSandbox('nbreal');
    b1 = box.server('b1');
    b2 = box.server('b2');
    tokenFile = join(box.dir, 'netbox-token');
    await writeFile(tokenFile, `${netbox.token}\n`, { mode: 0o600 });
    await fillNetbox();
    inventoryPath = await box.writeInventory({
      servers: { [b1]: { dataset: 'data' }, [b2]: { dataset: 'data2' } },
      // No sync-inventory schedule on the shared dev server's default queue: files run concurrently, and the
      // schedules test's dry run would plan to delete it.
      sync: { enabled: false },
      netbox: { url: netbox.url, tokenFile },
      hosts: { local: { address: '10.9.0.1' } },
    });
  },
  { timeout: 65 * 60_000 },
);
after(async () => {
  try {
    await box?.close();
  } finally {
    await netbox?.stop();
  }
});

/** Devices and virtual machines over several pages, custom fields of every type Tidemark reads. */
async function fillNetbox(): Promise<void> {
  const api = netbox.api;
  await api('POST', '/api/extras/tags/', [
    { name: 'Backup', slug: 'backup' },
    { name: 'Backups-old', slug: 'backups-old' },
  ]);
  const choices = await api<Created>('POST', '/api/extras/custom-field-choice-sets/', {
    name: 'Tidemark servers',
    extra_choices: [
      [b1, b1],
      [b2, b2],
    ],
  });
  const objectTypes = ['dcim.device', 'virtualization.virtualmachine'];
  await api('POST', '/api/extras/custom-fields/', [
    { name: 'backup_servers', type: 'multiselect', choice_set: choices.id, object_types: objectTypes },
    { name: 'backup_paths', type: 'longtext', object_types: objectTypes },
    { name: 'backup_excludes', type: 'longtext', object_types: objectTypes },
    { name: 'backup_schedule', type: 'text', object_types: objectTypes },
    { name: 'backup_blackout', type: 'text', object_types: objectTypes },
    { name: 'backup_enabled', type: 'boolean', object_types: objectTypes },
  ]);
  const site = await api<Created>('POST', '/api/dcim/sites/', { name: 'Site 1', slug: 'site-1' });
  const maker = await api<Created>('POST', '/api/dcim/manufacturers/', { name: 'Maker', slug: 'maker' });
  const type = await api<Created>('POST', '/api/dcim/device-types/', {
    manufacturer: maker.id,
    model: 'Server',
    slug: 'server',
  });
  const role = await api<Created>('POST', '/api/dcim/device-roles/', { name: 'Server', slug: 'server' });
  const clusterType = await api<Created>('POST', '/api/virtualization/cluster-types/', { name: 'KVM', slug: 'kvm' });
  const cluster = await api<Created>('POST', '/api/virtualization/clusters/', {
    name: 'Cluster 1',
    type: clusterType.id,
  });

  const backup = [{ slug: 'backup' }];
  const both = [b1, b2].sort();
  const devices: Array<Record<string, unknown>> = [];
  for (let index = 1; index <= deviceCount; index++) {
    const name = `dev-${String(index).padStart(2, '0')}`;
    const fields: Record<string, unknown> = {};
    let servers = both;
    if (index === 1) {
      fields.backup_servers = [b1];
      servers = [b1];
    }
    if (index === 2) fields.backup_servers = [b2]; // emptied below, through the API
    if (index === 3) Object.assign(fields, { backup_paths: '/etc\r\n/srv', backup_schedule: 'every 6h' });
    if (index === 4) fields.backup_enabled = false;
    if (index === 5) fields.backup_excludes = '*.tmp\n/var/cache/';
    if (index === 6) fields.backup_blackout = '01:00-02:00';
    if (index === 7) fields.backup_paths = 'relative/path';
    const tags = index === 21 || index === 22 ? [] : index === 23 ? [{ slug: 'backups-old' }] : backup;
    devices.push({
      name,
      site: site.id,
      device_type: type.id,
      role: role.id,
      status: 'active',
      tags,
      custom_fields: fields,
    });
    if (tags === backup && index !== 7) expected.set(name, { servers, address: name });
  }
  // A name that is not a host name, tagged: skipped naming it.
  devices.push({ name: 'dev 117', site: site.id, device_type: type.id, role: role.id, tags: backup });
  const createdDevices = await api<Array<Created & { name: string }>>('POST', '/api/dcim/devices/', devices);
  const deviceId = (name: string) => createdDevices.find((device) => device.name === name)!.id;
  // Emptied through the API: NetBox stores [] (the web UI stores null); both mean "not set".
  await api('PATCH', `/api/dcim/devices/${deviceId('dev-02')}/`, { custom_fields: { backup_servers: [] } });

  const machines: Array<Record<string, unknown>> = [];
  for (let index = 1; index <= machineCount; index++) {
    const name = `vm-${String(index).padStart(2, '0')}`;
    const fields: Record<string, unknown> = index === 1 ? { backup_servers: [b2], backup_schedule: 'hourly' } : {};
    const tags = index === 14 ? [] : backup;
    machines.push({ name, cluster: cluster.id, status: 'active', tags, custom_fields: fields });
    if (tags === backup) expected.set(name, { servers: index === 1 ? [b2] : both, address: name });
  }
  // A virtual machine named like an invalid device: it is the one backed up.
  machines.push({ name: 'dev-07', cluster: cluster.id, tags: backup });
  expected.set('dev-07', { servers: both, address: 'dev-07' });
  const createdMachines = await api<Array<Created & { name: string }>>(
    'POST',
    '/api/virtualization/virtual-machines/',
    machines,
  );

  // Addresses: an IPv4-only device, a dual-stack device, an IPv4 virtual machine.
  const ipFor = async (kind: 'device' | 'vm', objectId: number, addresses: string[]) => {
    const iface =
      kind === 'device'
        ? await api<Created>('POST', '/api/dcim/interfaces/', { device: objectId, name: 'eth0', type: '1000base-t' })
        : await api<Created>('POST', '/api/virtualization/interfaces/', { virtual_machine: objectId, name: 'eth0' });
    const primary: Record<string, number> = {};
    for (const address of addresses) {
      const ip = await api<Created>('POST', '/api/ipam/ip-addresses/', {
        address,
        assigned_object_type: kind === 'device' ? 'dcim.interface' : 'virtualization.vminterface',
        assigned_object_id: iface.id,
      });
      primary[address.includes(':') ? 'primary_ip6' : 'primary_ip4'] = ip.id;
    }
    await api(
      'PATCH',
      kind === 'device' ? `/api/dcim/devices/${objectId}/` : `/api/virtualization/virtual-machines/${objectId}/`,
      primary,
    );
  };
  await ipFor('device', deviceId('dev-01'), ['192.0.2.1/24']);
  await ipFor('device', deviceId('dev-02'), ['192.0.2.2/24', '2001:db8::2/64']);
  await ipFor('vm', createdMachines.find((machine) => machine.name === 'vm-01')!.id, ['198.51.100.1/32']);
  expected.get('dev-01')!.address = '192.0.2.1';
  expected.get('dev-02')!.address = '2001:db8::2';
  expected.get('vm-01')!.address = '198.51.100.1';
}

test('tagged devices and virtual machines over several pages become exactly the expected (host, server) pairs', async () => {
  assert.match(netbox.version, /^4\.7\./);
  const config = resolveNetboxConfig({ url: netbox.url, tokenFile });
  const answer = await fetchNetboxHosts(config);
  assert.ok(
    answer.hosts.length > 2 * pageSize,
    `more objects (${answer.hosts.length}) than one page holds (${pageSize})`,
  );

  const sync = await box.cli(inventoryPath, ['sync']);
  assert.equal(sync.exitCode, 0, sync.stderr);
  const want = [
    `local@${b1}`,
    `local@${b2}`,
    ...[...expected].flatMap(([host, { servers }]) => servers.map((server) => `${host}@${server}`)),
  ].sort();
  // Schedules are listed through Temporal's visibility store, which trails the creates by a moment.
  let pairs: string[] = [];
  await waitFor(
    'schedules listed',
    async () => {
      pairs = (await box.ownedIds()).map((id) => id.replace(/^tidemark:backup:/, '')).sort();
      return pairs.length >= want.length;
    },
    15_000,
  ).catch(() => undefined);
  assert.deepEqual(pairs, want);

  const warnings = sync.stdout + sync.stderr;
  assert.match(
    warnings,
    /netbox: device dev-07 skipped: backup_paths \(paths\.0\): expected an absolute path.*got "relative\/path"/,
  );
  assert.match(warnings, /netbox: device \d+ skipped: its name "dev 117" is not a host name/);
  for (const left of ['dev-21', 'dev-22', 'dev-23', 'vm-14'])
    assert.ok(!pairs.some((pair) => pair.startsWith(`${left}@`)), `${left} (untagged or decoy tag) is left out`);
});

test('custom fields of every type are honoured: multi-select, emptied multi-select, text, long text, boolean; addresses by family', async () => {
  // What NetBox 4.7 itself answers for a multiple selection: objects, not the raw values.
  const raw = await netbox.api<{ results: Array<{ custom_fields: Record<string, unknown> }> }>(
    'GET',
    '/api/dcim/devices/?name=dev-01',
  );
  assert.deepEqual(raw.results[0]?.custom_fields.backup_servers, [{ value: b1, label: b1 }]);
  const answer = await fetchNetboxHosts(resolveNetboxConfig({ url: netbox.url, tokenFile }));
  const entry = (name: string) =>
    answer.hosts.find((host) => host.name === name && host.kind === 'device')?.entry ??
    answer.hosts.find((host) => host.name === name)?.entry;
  assert.deepEqual(entry('dev-01'), { address: '192.0.2.1', servers: [b1] });
  assert.deepEqual(
    entry('dev-02'),
    { address: '2001:db8::2' },
    'emptied multi-select is unset; dual stack gives NetBox primary_ip (IPv6 by default)',
  );
  assert.deepEqual(
    entry('dev-03'),
    { address: 'dev-03', paths: ['/etc', '/srv'], schedule: { every: '6h' } },
    'long text with CRLF and a text schedule',
  );
  assert.deepEqual(entry('dev-04'), { address: 'dev-04', enabled: false });
  assert.deepEqual(entry('dev-05'), { address: 'dev-05', excludes: ['*.tmp', '/var/cache/'] });
  assert.deepEqual(entry('dev-06'), { address: 'dev-06', blackout: ['01:00-02:00'] });
  assert.deepEqual(entry('vm-01'), { address: '198.51.100.1', servers: [b2], schedule: 'hourly' });

  const ipv4 = await fetchNetboxHosts(resolveNetboxConfig({ url: netbox.url, tokenFile, address: 'primary_ip4' }));
  assert.equal(
    ipv4.hosts.find((host) => host.name === 'dev-02')?.entry.address,
    '192.0.2.2',
    'address: primary_ip4 prefers IPv4',
  );

  assert.equal(
    (await box.client.schedule.getHandle(backupScheduleId('dev-04', b1)).describe()).state.paused,
    true,
    'backup_enabled false pauses',
  );
});

test('a bad token is refused (HTTP 403) and changes nothing', async () => {
  const before = await box.ownedIds();
  const badFile = join(box.dir, 'bad-token');
  await writeFile(badFile, 'nbt_0123456789ab.notavalidsecretatall0123456789\n', { mode: 0o600 });
  await assert.rejects(
    fetchNetboxHosts(resolveNetboxConfig({ url: netbox.url, tokenFile: badFile })),
    (error: Error) => {
      assert.ok(error instanceof NetboxError);
      assert.match(error.message, /NetBox at http:\/\/127\.0\.0\.1:\d+ refused the API token \(HTTP 403\)/);
      return true;
    },
  );
  const badInventory = await box.writeInventory(
    {
      servers: { [b1]: { dataset: 'data' }, [b2]: { dataset: 'data2' } },
      netbox: { url: netbox.url, tokenFile: badFile },
      hosts: { local: { address: '10.9.0.1' } },
    },
    'bad.yaml',
  );
  const failed = await box.cli(badInventory, ['sync']);
  assert.equal(failed.exitCode, 1);
  assert.match(failed.stderr, /refused the API token \(HTTP 403\).*no schedule was changed/);
  assert.deepEqual(await box.ownedIds(), before);
});

test('the token is in no output, log or workflow history', async () => {
  const outputs: string[] = [];
  for (const args of [['sync', '--dry-run'], ['hosts'], ['config', 'check']]) {
    const result = await box.cli(inventoryPath, args, { TIDEMARK_LOG_LEVEL: 'debug' });
    assert.equal(result.exitCode, 0, `${args.join(' ')}: ${result.stderr}`);
    outputs.push(result.stdout, result.stderr);
  }
  assert.match(outputs.join('\n'), /dev-01/, 'the outputs list NetBox hosts (sanity check of the search)');
  const secret = netbox.token.split('.').at(-1)!;
  for (const output of outputs) assert.ok(!output.includes(secret), 'token in CLI output');

  const worker = await box.startWorker(inventoryPath);
  try {
    const workflowId = `nbreal-sync-${box.suffix}`;
    const report = await box.runSyncInventory(workflowId);
    assert.deepEqual(report.errors, []);
    const history = await historyText(box.client, workflowId);
    assert.ok(history.includes('dev-07'), 'the history holds the sync report (sanity check of the search)');
    assert.ok(!history.includes(secret), 'token in the syncInventory history');
    const described = await box.client.schedule.getHandle(backupScheduleId('dev-01', b1)).describe();
    assert.ok(!asText(described.raw).includes(secret), 'token in a schedule');
  } finally {
    await worker.stop();
  }
});
