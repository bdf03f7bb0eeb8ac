// NetBox is trusted less than the inventory file: hostile custom fields on a host the file defines change
// nothing in that host's plan; on a NetBox-only host they keep the host out, naming the custom field.
// A NetBox-shaped server on 127.0.0.1, the inventory functions called directly (no Temporal).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fetchNetboxHosts, type NetboxConfig } from '../inventory/netbox.js';
import { parseInventory } from '../inventory/load.js';
import { hostEntry, resolveHost, resolveSchedule } from '../inventory/resolve.js';
import { inventoryForRun, mergeNetboxHosts } from '../inventory/sources.js';
import { backupTag, startFakeNetbox, type FakeNetbox, type FakeObject } from './helpers/fake-netbox.js';

const token = 'nb-hostile-test-token';
let netbox: FakeNetbox;

const tagged = (id: number, name: unknown, customFields: Record<string, unknown>, ip = `10.0.0.${id}/24`): FakeObject =>
  ({ id, name, primary_ip: { address: ip }, tags: [backupTag], custom_fields: customFields }) as FakeObject;

/** Every custom field NetBox can set, each hostile. */
const hostileFields = {
  backup_paths: '/srv; touch /tmp/pwned $(id)',
  backup_excludes: '*',
  backup_servers: 'b1 b2',
  backup_schedule: 'cron 0 0 31 2 *',
  backup_blackout: '00:00-23:59',
  backup_enabled: false,
};

before(async () => {
  netbox = await startFakeNetbox(token);
  netbox.pageSize = 50;
});
after(async () => {
  await netbox.close();
});

const config = (): NetboxConfig => ({
  url: netbox.url,
  tag: 'Backup',
  address: 'primary_ip',
  timeoutMs: 5_000,
  tokenEnv: 'NB_TOKEN',
});
const env = { NB_TOKEN: token };
const yaml = (netboxExtra = '') =>
  parseInventory(
    `servers: { b1: { dataset: data }, b2: { dataset: tank } }\nnetbox: { url: "http://127.0.0.1:1", tokenEnv: NB_TOKEN${netboxExtra} }\nhosts:\n  vpn: { address: vpn.example.org, paths: [/etc], servers: [b1] }\n`,
  );

test('hostile custom fields on a host the YAML file defines change nothing in its plan', async () => {
  netbox.devices = [tagged(1, 'VPN', hostileFields, '-oProxyCommand=id/24')];
  netbox.machines = [];
  const inventory = yaml();
  const merged = mergeNetboxHosts(inventory, await fetchNetboxHosts(config(), env));
  assert.deepEqual(resolveHost(merged.inventory, 'vpn'), resolveHost(inventory, 'vpn'));
  assert.deepEqual(resolveSchedule(merged.inventory, 'vpn'), resolveSchedule(inventory, 'vpn'));
  assert.match(
    merged.warnings.join('\n'),
    /netbox: device vpn: backup_servers, backup_paths, backup_excludes, backup_schedule, backup_blackout, backup_enabled ignored: the inventory file defines this host/,
  );
  // What planBackup sees for it: the file alone, NetBox not even asked.
  assert.equal(await inventoryForRun(inventory, 'vpn', env), inventory);

  // With fillYamlHosts, NetBox may fill unset fields, but through the same checks: the hostile ones refuse the merge.
  const filling = yaml(', fillYamlHosts: true');
  const filled = mergeNetboxHosts(filling, await fetchNetboxHosts(config(), env));
  assert.deepEqual(resolveHost(filled.inventory, 'vpn'), resolveHost(filling, 'vpn'));
  assert.match(
    filled.warnings.join('\n'),
    /netbox: device vpn skipped: .*backup_excludes \(excludes\.0\): refused: would exclude everything/,
  );
});

test('hostile custom fields on a NetBox-only host keep it out, naming the custom field', async () => {
  netbox.devices = [
    tagged(1, 'shell', { backup_paths: '/srv; touch /tmp/pwned $(id)' }),
    tagged(2, 'emptied', { backup_excludes: ['/?*'] }),
    tagged(3, 'never', { backup_schedule: 'cron 0 0 31 2 *' }),
    tagged(4, 'allday', { backup_blackout: '00:00-12:00, 11:00-23:59' }),
    tagged(5, 'yes', { backup_enabled: 'yes' }),
    tagged(6, 'number', { backup_paths: 42 }),
    tagged(7, 'carriage', { backup_excludes: ['/nothing\r*'] }),
    tagged(8, 'nowhere', { backup_servers: 'b3' }),
    tagged(9, 'optioninjection', {}, '-oProxyCommand=id/24'),
    tagged(10, '__proto__', {}),
    tagged(11, 'Escape\u001b[2J', {}),
    tagged(12, 'fine', {
      backup_paths: '/etc\n/srv/data',
      backup_excludes: '*.tmp',
      backup_schedule: 'every 6h',
      backup_servers: 'b2',
    }),
  ];
  netbox.machines = [tagged(13, 42, {})];
  const inventory = yaml();
  const merged = mergeNetboxHosts(inventory, await fetchNetboxHosts(config(), env));
  assert.deepEqual(Object.keys(merged.inventory.hosts).sort(), ['fine', 'vpn']);
  const fine = resolveHost(merged.inventory, 'fine');
  assert.deepEqual(
    [fine.paths, fine.excludes, fine.servers],
    [['/etc', '/srv/data'], ['*.tmp'], ['b2']],
    'sane custom fields still apply',
  );

  const warnings = merged.warnings.join('\n');
  const expected: RegExp[] = [
    /device shell skipped: backup_paths \(paths\.0\): expected an absolute path of ASCII letters, digits/,
    /device emptied skipped: backup_excludes \(excludes\.0\): refused: would exclude everything under \//,
    /device never skipped: backup_schedule \(schedule\.cron\): "0 0 31 2 \*" never fires/,
    /device allday skipped: backup_blackout \(blackout\): the blackout windows together cover/,
    /device yes skipped: backup_enabled \(enabled\): expected true or false, got "yes"/,
    /device number skipped: backup_paths \(paths\): expected array, got 42/,
    /device carriage skipped: backup_excludes \(excludes\.0\): contains the control character U\+000D/,
    /device nowhere skipped: backup_servers \(servers\.0\): unknown server/,
    /device optioninjection skipped: address: expected the ssh target/,
    /device 10 skipped: its name "__proto__" is not a host name \(letters, digits, "-" and "\."\); rename it in NetBox/,
    /device 11 skipped: its name "escape\\u001b\[2j" is not a host name/,
    /virtual-machine 13 has no name; skipped/,
  ];
  for (const line of expected) assert.match(warnings, line);
  assert.ok(
    // eslint-disable-next-line no-control-regex -- the control characters are what this looks for
    !/[\u0000-\u0009\u000b-\u001f]/.test(warnings),
    `no control character reaches the warnings: ${JSON.stringify(warnings)}`,
  );

  // planBackup reads NetBox itself: a hostile NetBox-only host is not in what it sees, a good one is.
  const live = { ...inventory, netbox: { ...inventory.netbox!, url: netbox.url } };
  assert.equal(hostEntry(await inventoryForRun(live, 'emptied', env), 'emptied'), undefined);
  assert.deepEqual(hostEntry(await inventoryForRun(live, 'fine', env), 'fine')?.paths, ['/etc', '/srv/data']);
});
