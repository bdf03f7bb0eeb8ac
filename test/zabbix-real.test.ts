// Against a real Zabbix 6.0 (devenv/zabbix.ts): the shipped template imported through the API, the
// discovery creating the items on the host, a backup's values stored at the run's own clock (a retried
// delivery too), a restore drill's items stored with the template's types, and items Zabbix refuses
// (unknown key, wrong value type) reported with their names.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BackupSummary } from '../domain/backup.js';
import { backupWorkflowId } from '../domain/names.js';
import { startZabbix, type DevZabbix } from '../devenv/zabbix.js';
import { projectRoot } from '../devenv/paths.js';
import { loadState } from '../notify/state.js';
import { discoveryKey, sendZabbix, sendZabbixDrill, zabbixSend } from '../notify/zabbix.js';
import { createRig, type Rig } from './helpers/rig.js';
import { editInventory } from './helpers/inventory-edit.js';
import { waitFor } from '../devenv/process.js';

let zabbix: DevZabbix;
let rig: Rig;
let zabbixHost: string;
let templateId: string;
let groupId: string;

const valueKeys = ['status', 'last_success', 'bytes', 'files', 'duration', 'message'];
/** A restore drill's items (tidemark.drill.*), made by the same discovery. */
const drillKeys = ['status', 'last_success', 'verified', 'mismatched', 'message'].map((name) => `drill.${name}`);

before(async () => {
  const started = Date.now();
  zabbix = await startZabbix();
  console.log(`zabbix: server, database and API ready in ${Date.now() - started} ms`);
  rig = await createRig('zbx');
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  zabbixHost = `zbx-${rig.server}`;
});
after(async () => {
  await rig?.close();
  await zabbix?.stop();
});

/** Waits until the trapper takes a value for this item (once Zabbix has loaded it into its configuration). */
const acceptedAlone = (host: string, key: string) =>
  waitFor(`${host} ${key} accepted`, async () => {
    const answer = await zabbixSend('127.0.0.1', zabbix.trapperPort, [{ host, key, value: '0' }]);
    return /processed: 1; failed: 0/.test(answer.info ?? '');
  });

const itemsOf = (host: string) =>
  zabbix.api<Array<{ key_: string; value_type: string; state: string; error: string }>>('item.get', {
    output: ['key_', 'value_type', 'state', 'error'],
    host,
  });

test('the shipped template imports through configuration.import; discovery makes its items on the host', async () => {
  const source = readFileSync(join(projectRoot, 'deploy/zabbix/tidemark-template.yaml'), 'utf8');
  const create = { createMissing: true, updateExisting: true };
  assert.equal(
    await zabbix.api('configuration.import', {
      format: 'yaml',
      source,
      rules: {
        groups: { createMissing: true },
        templates: create,
        discoveryRules: create,
        items: create,
        triggers: create,
        valueMaps: create,
      },
    }),
    true,
  );
  const [template] = await zabbix.api<Array<{ templateid: string }>>('template.get', {
    filter: { host: ['Tidemark backup'] },
  });
  templateId = template!.templateid;
  const [group] = await zabbix.api<Array<{ groupid: string }>>('hostgroup.get', {
    filter: { name: ['Linux servers'] },
  });
  groupId = group!.groupid;
  await zabbix.api('host.create', {
    host: zabbixHost,
    groups: [{ groupid: groupId }],
    templates: [{ templateid: templateId }],
  });
  await zabbix.reloadConfiguration();

  // What each notification sends first: the host's discovery value, naming the run's server.
  const discovery = {
    host: zabbixHost,
    key: discoveryKey,
    value: JSON.stringify({ data: [{ '{#SERVER}': rig.server }] }),
  };
  await waitFor('the discovery rule accepting values', async () => {
    const answer = await zabbixSend('127.0.0.1', zabbix.trapperPort, [discovery]);
    return /processed: 1; failed: 0/.test(answer.info ?? '');
  });
  const expected = [...valueKeys, ...drillKeys].map((name) => `tidemark.${name}[${rig.server}]`).sort();
  await waitFor('the discovered items', async () => (await itemsOf(zabbixHost)).length === expected.length, 30_000);
  assert.deepEqual((await itemsOf(zabbixHost)).map((item) => item.key_).sort(), expected);
  const triggers = () =>
    zabbix.api<Array<{ description: string }>>('trigger.get', { host: zabbixHost, output: ['description'] });
  await waitFor('the discovered triggers', async () => (await triggers()).length > 0, 30_000).catch(
    async (error: Error) => {
      const rules = await zabbix.api('discoveryrule.get', { host: zabbixHost, output: ['key_', 'state', 'error'] });
      throw new Error(`${error.message}: discovery rule ${JSON.stringify(rules)}`);
    },
  );
  assert.deepEqual((await triggers()).map((trigger) => trigger.description).sort(), [
    `Backup of {HOST.NAME} on ${rig.server} ended with a warning`,
    `Backup of {HOST.NAME} on ${rig.server} failed`,
    `No successful backup of {HOST.NAME} on ${rig.server} for {$TIDEMARK.STALE}`,
    `Restore drill of {HOST.NAME} on ${rig.server} failed`,
  ]);

  // The template's triggers fire: a failed run two days ago, and its last success as old (stale past 36h).
  const twoDaysAgo = Math.floor(Date.now() / 1000) - 2 * 86_400;
  const old = (name: string, value: string) => ({
    host: zabbixHost,
    key: `tidemark.${name}[${rig.server}]`,
    value,
    clock: twoDaysAgo,
    ns: 0,
  });
  await waitFor('the discovered items taking values', async () => {
    const answer = await zabbixSend('127.0.0.1', zabbix.trapperPort, [
      old('status', '2'),
      old('last_success', String(twoDaysAgo)),
    ]);
    return /processed: 2; failed: 0/.test(answer.info ?? '');
  });
  // The stale trigger's now() is re-evaluated by Zabbix's timer about once a minute, so 30 s could miss
  // it (a CI run did); on a timeout the triggers' own state says which one lagged and why.
  const sent = Date.now();
  await waitFor('the failed and stale triggers in PROBLEM', async () => (await problems()).length === 2, 120_000).catch(
    async (error: Error) => {
      const states = await zabbix.api('trigger.get', {
        host: zabbixHost,
        output: ['description', 'value', 'state', 'error', 'lastchange'],
      });
      throw new Error(`${error.message}: triggers ${JSON.stringify(states)}`);
    },
  );
  console.log(`zabbix: both triggers in PROBLEM ${Date.now() - sent} ms after the values were taken`);
  assert.deepEqual(await problems(), [
    `Backup of {HOST.NAME} on ${rig.server} failed`,
    `No successful backup of {HOST.NAME} on ${rig.server} for {$TIDEMARK.STALE}`,
  ]);
});

/** Descriptions of the host's triggers in PROBLEM state. */
async function problems(): Promise<string[]> {
  const triggers = await zabbix.api<Array<{ description: string }>>('trigger.get', {
    host: zabbixHost,
    output: ['description'],
    filter: { value: 1 },
  });
  return triggers.map((trigger) => trigger.description).sort();
}

test("a backup's values arrive with the run's own clock, once each, and the API confirms them", async () => {
  editInventory(rig, (inventory) => {
    inventory.servers[rig.server].notify = [
      {
        type: 'zabbix',
        server: '127.0.0.1',
        port: zabbix.trapperPort,
        host: 'zbx-{server}',
        apiUrl: zabbix.apiUrl,
        apiTokenFile: zabbix.apiTokenFile,
      },
    ];
  });
  await rig.startWorker();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  const summary = (await rig.client.workflow
    .getHandle(backupWorkflowId(rig.hostName, rig.server))
    .result()) as BackupSummary;
  assert.deepEqual(
    summary.notifications?.map(({ ok, error }) => ({ ok, error })),
    [{ ok: true, error: undefined }],
  );
  const { state } = await loadState(join(rig.dir, 'state.json'));
  const finishedAt = Date.parse(state.hosts[`${rig.hostName}@${rig.server}`]!.last.finishedAt);
  const clock = Math.floor(finishedAt / 1000);
  const ns = (finishedAt % 1000) * 1_000_000;

  // A retried delivery of the same run (as the notify activity's retry sends it): same clock, nothing doubled.
  await sendZabbix(
    { type: 'zabbix', server: '127.0.0.1', port: zabbix.trapperPort, host: zabbixHost },
    summary,
    new Date(finishedAt),
  );
  const items = await zabbix.api<Array<{ itemid: string; key_: string; value_type: string }>>('item.get', {
    output: ['itemid', 'key_', 'value_type'],
    host: zabbixHost,
  });
  const history = async (key: string) => {
    const item = items.find((candidate) => candidate.key_ === `tidemark.${key}[${rig.server}]`)!;
    return zabbix.api<Array<{ clock: string; ns: string; value: string }>>('history.get', {
      itemids: [item.itemid],
      history: Number(item.value_type),
      time_from: clock,
      output: 'extend',
    });
  };
  await waitFor('the values in history', async () => (await history('message')).length > 0);
  for (const key of valueKeys) {
    const values = await history(key);
    assert.equal(values.length, 1, `${key}: one value, the retried one skipped (${JSON.stringify(values)})`);
    assert.deepEqual({ clock: Number(values[0]!.clock), ns: Number(values[0]!.ns) }, { clock, ns }, key);
  }
  assert.equal((await history('status'))[0]!.value, '0');
  assert.equal((await history('last_success'))[0]!.value, String(clock));
  assert.equal((await history('bytes'))[0]!.value, String(summary.bytesTransferred));
  assert.match((await history('message'))[0]!.value, /^BACKUP OK - /);
  await waitFor('the failed and stale triggers back to OK', async () => (await problems()).length === 0, 30_000);
});

test("a restore drill's items are stored with the template's types; a failed drill raises its trigger", async () => {
  const target = {
    type: 'zabbix' as const,
    server: '127.0.0.1',
    port: zabbix.trapperPort,
    host: zabbixHost,
    apiUrl: zabbix.apiUrl,
    apiTokenFile: zabbix.apiTokenFile,
  };
  const drill = {
    host: rig.hostName,
    server: rig.server,
    status: 'FAILED' as const,
    message: 'restore drill of data/x@tidemark-y FAILED: 1 file(s) differ from the host, 0 restored wrongly',
    verified: 49,
    mismatched: 1,
  };
  // The API read-back fails the delivery on an item not stored (unsupported type): none here.
  const sent = await sendZabbixDrill(target, drill, new Date());
  assert.match(sent, /^5 items to 127\.0\.0\.1:\d+ \(processed: 5; failed: 0; total: 5/, 'no last_success on FAILED');
  await waitFor(
    'the failed drill trigger in PROBLEM',
    async () => (await problems()).includes(`Restore drill of {HOST.NAME} on ${rig.server} failed`),
    120_000,
  );
  const passed = await sendZabbixDrill(
    target,
    {
      ...drill,
      status: 'SUCCESS',
      message: 'restore drill of data/x@tidemark-y: 50 of 50 files verified',
      verified: 50,
      mismatched: 0,
    },
    new Date(),
  );
  assert.match(
    passed,
    /^6 items to .*processed: 6; failed: 0/,
    'last_success included on SUCCESS: 5 values and discovery',
  );
  await waitFor(
    'the drill trigger back to OK',
    async () => !(await problems()).includes(`Restore drill of {HOST.NAME} on ${rig.server} failed`),
    120_000,
  );
});

test('items Zabbix refuses fail the notification naming them: an unknown key, then a wrong value type', async () => {
  // A host made by hand, as an operator might: the discovery rule, and trapper items of their own making.
  const host = `zbx-hand-${rig.server}`;
  const { hostids } = await zabbix.api<{ hostids: string[] }>('host.create', { host, groups: [{ groupid: groupId }] });
  const hostid = hostids[0]!;
  await zabbix.api('discoveryrule.create', { hostid, name: 'Tidemark', key_: discoveryKey, type: 2 });
  const trapper = (name: string, valueType: number) => ({
    hostid,
    name,
    key_: `tidemark.${name}[${rig.server}]`,
    type: 2,
    value_type: valueType,
  });
  // No tidemark.duration; tidemark.message numeric (3) where the template has text (4).
  await zabbix.api('item.create', [
    trapper('status', 3),
    trapper('last_success', 3),
    trapper('bytes', 3),
    trapper('files', 3),
    trapper('message', 3),
  ]);
  await zabbix.reloadConfiguration();
  const summary: BackupSummary = {
    host: rig.hostName,
    server: rig.server,
    status: 'SUCCESS',
    dataset: rig.dataset,
    snapshot: `${rig.dataset}@tidemark-x`,
    filesTransferred: 3,
    bytesTransferred: 1234,
    bytesReceived: 99,
    durationMs: 4_000,
    message: 'ok',
  };
  const target = {
    type: 'zabbix' as const,
    server: '127.0.0.1',
    port: zabbix.trapperPort,
    host,
    apiUrl: zabbix.apiUrl,
    apiTokenFile: zabbix.apiTokenFile,
  };
  await acceptedAlone(host, `tidemark.status[${rig.server}]`);
  await assert.rejects(sendZabbix(target, summary, new Date()), (error: Error) => {
    assert.match(
      error.message,
      new RegExp(`refused 1 of 7 items for host "${host}": tidemark\\.duration\\[${rig.server}\\];`),
    );
    return true;
  });

  await zabbix.api('item.create', [trapper('duration', 3)]);
  await zabbix.reloadConfiguration();
  await acceptedAlone(host, `tidemark.duration[${rig.server}]`);
  await assert.rejects(sendZabbix(target, summary, new Date()), (error: Error) => {
    assert.match(
      error.message,
      new RegExp(
        `accepted but did not store 1 of 6 items for host "${host}": tidemark\\.message\\[${rig.server}\\] \\(unsupported: Value of type "string" is not suitable for value type "Numeric \\(unsigned\\)"`,
      ),
    );
    return true;
  });
  const message = (await itemsOf(host)).find((item) => item.key_ === `tidemark.message[${rig.server}]`);
  assert.equal(message?.state, '1', 'Zabbix itself marked it unsupported');
});
