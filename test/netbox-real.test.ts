// NetBox as a host source against a real NetBox (devenv/netbox.ts): objects and custom fields of
// NetBox's own types made through its REST API, pages smaller than the object count, and the token kept
// out of every output and history. The NetBox-shaped stand-in (netbox.test.ts) stays for what a real
// NetBox cannot be made to do (hang, answer 500).
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { awaitNetboxPreparation, createObjectParents, startNetbox, type DevNetbox } from '../devenv/netbox.js';
import { waitFor } from '../devenv/process.js';
import type { InventoryReport } from '../client/config-check.js';
import { controlTaskQueue } from '../domain/names.js';
import { fetchNetboxHosts, NetboxError, resolveNetboxConfig } from '../inventory/netbox.js';
import { backupScheduleId } from '../schedule/desired.js';
import { asText, historyText } from './helpers/history.js';
import { createRig, testServices } from './helpers/rig.js';
import { createSandbox, type Sandbox } from './helpers/schedules.js';
import { stringify } from 'yaml';

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
  const parents = await createObjectParents(api);

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
      site: parents.site,
      device_type: parents.deviceType,
      role: parents.role,
      status: 'active',
      tags,
      custom_fields: fields,
    });
    if (tags === backup && index !== 7) expected.set(name, { servers, address: name });
  }
  // A name that is not a host name, tagged: skipped naming it.
  devices.push({
    name: 'dev 117',
    site: parents.site,
    device_type: parents.deviceType,
    role: parents.role,
    tags: backup,
  });
  const createdDevices = await api<Array<Created & { name: string }>>('POST', '/api/dcim/devices/', devices);
  const deviceId = (name: string) => createdDevices.find((device) => device.name === name)!.id;
  // Emptied through the API: NetBox stores [] (the web UI stores null); both mean "not set".
  await api('PATCH', `/api/dcim/devices/${deviceId('dev-02')}/`, { custom_fields: { backup_servers: [] } });

  const machines: Array<Record<string, unknown>> = [];
  for (let index = 1; index <= machineCount; index++) {
    const name = `vm-${String(index).padStart(2, '0')}`;
    const fields: Record<string, unknown> = index === 1 ? { backup_servers: [b2], backup_schedule: 'hourly' } : {};
    const tags = index === 14 ? [] : backup;
    machines.push({ name, cluster: parents.cluster, status: 'active', tags, custom_fields: fields });
    if (tags === backup) expected.set(name, { servers: index === 1 ? [b2] : both, address: name });
  }
  // A virtual machine named like an invalid device: it is the one backed up.
  machines.push({ name: 'dev-07', cluster: parents.cluster, tags: backup });
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

/** A host only NetBox knows, through every verb that takes --host; then NetBox stopped: the kept answer
 * (WARNING with its age), one-line failures with their exit codes, and past netbox.maxCacheAge a run fails
 * saying so. Last in this file: it renames and deletes objects, and stops NetBox. */
test('a NetBox-only host works with every --host verb, and survives a NetBox outage up to netbox.maxCacheAge', async () => {
  const rig = await createRig('nbonly');
  try {
    const host = 'nb-only';
    await mkdir(join(rig.source, 'etc'), { recursive: true });
    await writeFile(join(rig.source, 'etc', 'motd'), 'hello from netbox\n');
    const serverDataset = rig.dataset.slice(0, rig.dataset.lastIndexOf('/'));
    const cluster = (await netbox.api<{ results: Created[] }>('GET', '/api/virtualization/clusters/?name=Cluster 1'))
      .results[0]!;
    const vm = await netbox.api<Created>('POST', '/api/virtualization/virtual-machines/', {
      name: host,
      cluster: cluster.id,
      status: 'active',
      tags: [{ slug: 'backup' }],
    });
    const iface = await netbox.api<Created>('POST', '/api/virtualization/interfaces/', {
      virtual_machine: vm.id,
      name: 'eth0',
    });
    const ip = await netbox.api<Created>('POST', '/api/ipam/ip-addresses/', {
      address: `${rig.host.address}/32`,
      assigned_object_type: 'virtualization.vminterface',
      assigned_object_id: iface.id,
    });
    await netbox.api('PATCH', `/api/virtualization/virtual-machines/${vm.id}/`, { primary_ip4: ip.id });

    const writeRigInventory = (maxCacheAge: string) =>
      writeFile(
        rig.inventoryPath,
        stringify({
          temporal: { address: testServices().temporal },
          ssh: { identityFile: rig.host.identityFile, knownHostsFile: rig.host.knownHostsFile },
          sync: { enabled: false },
          servers: {
            [rig.server]: {
              dataset: serverDataset,
              stateFile: join(rig.dir, 'state.json'),
              restore: { roots: [rig.dir] },
            },
          },
          netbox: { url: netbox.url, tokenFile, maxCacheAge },
          // What NetBox's custom fields leave unset comes from here; the host itself is NetBox's alone.
          defaults: {
            port: rig.host.port,
            user: 'root',
            paths: [rig.source],
            transfer: { heartbeatTimeout: '3s', retryInterval: '1s', attempts: 3, ioTimeout: '30s' },
            retention: { keepWithin: '7d' },
          },
          hosts: {},
        }),
      );
    await writeRigInventory('1h');
    let worker = await rig.startWorker();

    const checked = await rig.cli(['config', 'check', '--json']);
    assert.equal(checked.exitCode, 0, checked.stderr);
    const listed = (JSON.parse(checked.stdout) as InventoryReport).hosts.find((entry) => entry.name === host);
    assert.equal(listed?.source, 'netbox');
    assert.equal(listed?.address, rig.host.address);
    assert.deepEqual(listed?.paths, [rig.source]);
    assert.deepEqual(listed?.servers, [rig.server]);
    assert.ok(listed?.schedules[0] && 'summary' in listed.schedules[0], 'its schedule is planned');
    const text = await rig.cli(['config', 'check']);
    assert.match(text.stdout, new RegExp(`${host} \\[netbox\\]: root@${rig.host.address.replaceAll('.', '\\.')}:`));

    const backup = await rig.cli(['start-backup', '--host', host, '--wait']);
    assert.equal(backup.exitCode, 0, backup.stdout + backup.stderr);
    const dataset = `${serverDataset}/${host}`;
    const snapshots = JSON.parse((await rig.cli(['snapshots', '--host', host, '--json'])).stdout) as {
      dataset: string;
      snapshots: Array<{ name: string; keepReason: string | null }>;
    };
    assert.equal(snapshots.dataset, dataset);
    assert.equal(snapshots.snapshots.length, 1);

    const files = await rig.cli(['files', '--host', host, join(rig.source, 'etc')]);
    assert.equal(files.exitCode, 0, files.stderr);
    assert.match(files.stdout, /motd/);
    const history = await rig.cli(['history', '--host', host, join(rig.source, 'etc', 'motd')]);
    assert.equal(history.exitCode, 0, history.stderr);
    assert.ok(history.stdout.includes(snapshots.snapshots[0]!.name));

    const into = join(rig.dir, 'restored');
    const restored = await rig.cli(['restore', '--host', host, '--to', into, '--wait']);
    assert.equal(restored.exitCode, 0, restored.stdout + restored.stderr);
    assert.equal(await readFile(join(into, rig.source, 'etc', 'motd'), 'utf8'), 'hello from netbox\n');

    const verified = await rig.cli(['verify', '--host', host]);
    assert.equal(verified.exitCode, 0, verified.stdout + verified.stderr);

    const kept = await rig.cli(['start-backup', '--host', host, '--wait', '--keep', 'before the upgrade']);
    assert.equal(kept.exitCode, 0, kept.stdout + kept.stderr);
    const held = (
      JSON.parse((await rig.cli(['snapshots', '--host', host, '--json'])).stdout) as typeof snapshots
    ).snapshots.find((snapshot) => snapshot.keepReason === 'before the upgrade');
    assert.ok(held, 'the --keep snapshot is held');
    const released = await rig.cli(['release', '--host', host, '--snapshot', held.name]);
    assert.equal(released.exitCode, 0, released.stdout + released.stderr);

    // What NetBox says of a host it does not list as tagged.
    const untagged = await rig.cli(['snapshots', '--host', 'dev-21']);
    assert.equal(untagged.exitCode, 2);
    assert.match(
      untagged.stderr,
      /^tidemark: --host dev-21: NetBox device \d+ "dev-21" does not carry the tag "Backup"/,
    );
    const machines = await netbox.api<{ results: Array<Created & { name: string }> }>(
      'GET',
      '/api/virtualization/virtual-machines/?name=vm-02&name=vm-03',
    );
    const idOf = (name: string) => machines.results.find((machine) => machine.name === name)!.id;
    await netbox.api('PATCH', `/api/virtualization/virtual-machines/${idOf('vm-02')}/`, { name: 'vm-02b' });
    await netbox.api('DELETE', `/api/virtualization/virtual-machines/${idOf('vm-03')}/`);
    const renamed = await rig.cli(['snapshots', '--host', 'vm-02']);
    assert.equal(renamed.exitCode, 2);
    assert.match(
      renamed.stderr,
      /virtual machine \d+ was renamed from "vm-02" to "vm-02b" in NetBox; use --host vm-02b/,
    );
    const gone = await rig.cli(['snapshots', '--host', 'vm-03']);
    assert.equal(gone.exitCode, 2);
    assert.match(gone.stderr, /virtual machine \d+, which was "vm-03", is gone from NetBox \(deleted\)/);

    const keptFile = join(rig.dir, 'netbox-answer.json');
    assert.equal((await stat(keptFile)).mode & 0o777, 0o600, 'the kept answer is private');
    const secret = netbox.token.split('.').at(-1)!;
    assert.ok(!(await readFile(keptFile, 'utf8')).includes(secret), 'no token in the kept answer');

    // NetBox stops. A new worker (no answer in memory) plans the next run from the kept answer: WARNING.
    await netbox.stop();
    worker.kill('SIGKILL');
    worker = await rig.startWorker();
    const hosts = await rig.cli(['hosts']);
    assert.equal(hosts.exitCode, 0, hosts.stderr);
    assert.match(hosts.stdout, new RegExp(`${host}\\s+${rig.server}`));
    assert.match(
      hosts.stderr,
      /^tidemark: WARNING: NetBox unavailable: cannot reach NetBox at .*ECONNREFUSED.*using its last good answer, \d+[smh]/,
    );
    const during = await rig.cli(['start-backup', '--host', host, '--wait']);
    assert.equal(during.exitCode, 5, `a run on the kept answer ends WARNING: ${during.stdout}${during.stderr}`);
    assert.match(during.stdout + during.stderr, /NetBox unavailable: .*using its last good answer, \d+[smh].* old/);

    // Past netbox.maxCacheAge: verbs fail in one line; status says UNKNOWN; a run fails with the reason.
    await writeRigInventory('1s');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    for (const args of [['hosts'], ['status'], ['snapshots', '--host', host]]) {
      const failed = await rig.cli(args);
      assert.equal(failed.exitCode, args[0] === 'status' ? 3 : 1, `${args.join(' ')}: ${failed.stderr}`);
      const lines = failed.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${args.join(' ')}: one line: ${failed.stderr}`);
      assert.match(lines[0]!, /cannot reach NetBox at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED; check that NetBox runs/);
      assert.match(lines[0]!, /older than netbox\.maxCacheAge \(1s\)/);
    }
    const nagios = await rig.cli(['status', '--nagios']);
    assert.equal(nagios.exitCode, 3);
    assert.match(nagios.stdout, /^TIDEMARK UNKNOWN: cannot reach NetBox at /);
    const run = await rig.client.workflow.start('backupHost', {
      taskQueue: controlTaskQueue,
      workflowId: `nbonly-stale-${rig.server}`,
      args: [{ host, server: rig.server }],
    });
    await assert.rejects(run.result(), (error: Error) => {
      let cause: unknown = error;
      while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
      assert.match(
        (cause as Error).message,
        /older than netbox\.maxCacheAge \(1s\): hosts from NetBox cannot be resolved/,
      );
      return true;
    });
  } finally {
    await rig.close();
  }
});
