// NetBox down: the last good answer kept on disk (mode 0600, no token, its time) stands in for it with a
// WARNING naming its age, up to netbox.maxCacheAge; sync's read never uses it. One answer per process.
// A NetBox-shaped server on 127.0.0.1 that can be made to answer 500; the inventory functions called directly.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TidemarkError } from '../domain/errors.js';
import { inventoryWithHosts } from '../inventory/host-lookup.js';
import { parseInventory } from '../inventory/load.js';
import { NetboxError } from '../inventory/netbox.js';
import { NetboxAnswerTooOld, readNetbox } from '../inventory/netbox-reading.js';
import { hostEntry } from '../inventory/resolve.js';
import { loadHostSources } from '../inventory/sources.js';
import { backupTag, startFakeNetbox, type FakeNetbox } from './helpers/fake-netbox.js';

const token = 'nb-outage-test-token-0123456789';
const env = { NB_TOKEN: token };
let netbox: FakeNetbox;
let dir: string;

before(async () => {
  netbox = await startFakeNetbox(token);
  netbox.devices = [{ id: 7, name: 'vpn', primary_ip: { address: '10.0.0.7/24' }, tags: [backupTag] }];
  netbox.machines = [];
  dir = await mkdtemp('/tmp/tidemark-nboutage-');
});
after(async () => {
  await netbox.close();
});

/** Each inventory its own timeout: the process's shared answer is per netbox block, so each test asks afresh. */
const inventory = (timeout: string, maxCacheAge = '1h') =>
  parseInventory(
    `servers: { b1: { dataset: data, stateFile: ${dir}/state.json } }\nnetbox: { url: "${netbox.url}", tokenEnv: NB_TOKEN, timeout: ${timeout}, maxCacheAge: ${maxCacheAge} }\nhosts: {}\n`,
  );

test('a good answer is kept beside the state file, 0600, without the token; during an outage it stands in with its age', async () => {
  const good = await inventoryWithHosts(inventory('5s'), ['vpn'], { env });
  assert.equal(hostEntry(good.inventory, 'vpn')?.address, '10.0.0.7');
  assert.deepEqual(good.warnings, []);
  const file = join(dir, 'netbox-answer.json');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const kept = await readFile(file, 'utf8');
  assert.ok(!kept.includes(token), 'no token in the kept answer');
  assert.match(kept, /"fetchedAt":"\d{4}-/);

  netbox.mode = 'error';
  try {
    const during = await inventoryWithHosts(inventory('6s'), ['vpn'], { env });
    assert.equal(hostEntry(during.inventory, 'vpn')?.address, '10.0.0.7', 'the kept answer resolves the host');
    assert.equal(during.warnings.length, 1);
    assert.match(
      during.warnings[0]!,
      /^NetBox unavailable: NetBox at http:\/\/127\.0\.0\.1:\d+ answered HTTP 500 .*; check NetBox's own log; using its last good answer, \d+ms old \(from .*, kept in .*netbox-answer\.json; usable up to netbox\.maxCacheAge 1h\)$/,
    );
    // Past netbox.maxCacheAge (here: read two hours later), the host cannot be resolved.
    await assert.rejects(
      readNetbox(inventory('7s'), { env, now: new Date(Date.now() + 2 * 3_600_000) }),
      (error: Error) => {
        assert.ok(error instanceof NetboxAnswerTooOld);
        assert.match(
          error.message,
          /answered HTTP 500 .*; the last good NetBox answer \(.*, 2h00m old\) is older than netbox\.maxCacheAge \(1h\): hosts from NetBox cannot be resolved until NetBox answers$/,
        );
        return true;
      },
    );
    // sync reads NetBox's current answer only: nothing kept changes schedules.
    await assert.rejects(loadHostSources(inventory('8s'), env), NetboxError);
    // hosts/status read it with the WARNING.
    const listed = await loadHostSources(inventory('9s'), env, { useKept: true });
    assert.ok(hostEntry(listed.inventory, 'vpn'));
    assert.equal(listed.outage?.length, 1);
  } finally {
    netbox.mode = 'ok';
  }
});

test('one paged fetch serves every lookup of a process; a host NetBox lacks is named with what NetBox says', async () => {
  const shared = inventory('10s');
  netbox.requests = [];
  await inventoryWithHosts(shared, ['vpn'], { env });
  const asked = netbox.requests.length;
  assert.ok(asked > 0);
  await inventoryWithHosts(shared, ['vpn'], { env });
  await loadHostSources(shared, env, { useKept: true });
  assert.equal(netbox.requests.length, asked, 'the second and third lookups reuse the answer');

  // Untagged in NetBox: the tagged set lacks it, NetBox still has it by name.
  netbox.devices.push({ id: 8, name: 'web', primary_ip: { address: '10.0.0.8/24' }, tags: [] });
  await assert.rejects(inventoryWithHosts(inventory('11s'), ['web'], { env }), (error: Error) => {
    assert.ok(error instanceof TidemarkError);
    assert.equal(error.code, 'UNKNOWN_HOST');
    assert.match(error.message, /^--host web: NetBox device 8 "web" does not carry the tag "Backup" \(netbox\.tag\)/);
    return true;
  });
  await assert.rejects(
    inventoryWithHosts(inventory('12s'), ['nosuch'], { env }),
    /not in the inventory.*NetBox \(http:\/\/127\.0\.0\.1:\d+\) has no object of that name tagged "Backup"/,
  );
});
