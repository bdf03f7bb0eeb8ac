// Pure tests of the notify step's payloads and protocols: Icinga body, Zabbix framing and items, webhook
// signature, healthchecks URLs, mail choice and delivery, the state file's transitions, metrics text, the
// inventory's notify schema, and `tidemark hosts --zabbix`.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import type { BackupSummary } from '../domain/backup.js';
import type { DrillOutcome } from '../domain/drill.js';
import { statusCode } from '../domain/notify.js';
import { parseInventory } from '../inventory/load.js';
import { performanceData, statusLine } from '../notify/format.js';
import { pingKind, pingUrl } from '../notify/healthchecks.js';
import { icingaDrillPayload, icingaPayload } from '../notify/icinga.js';
import { drillMailKind, drillMailMessage, mailKind, mailMessage } from '../notify/mail.js';
import { deliverMail } from '../notify/mail-transport.js';
import { applyOutcome, emptyState } from '../notify/state.js';
import { PermanentNotifyError, resolveNotifyTargets, targetRef } from '../notify/targets.js';
import { drillWebhookBody, webhookBody, webhookSignature, type DrillWebhookBody } from '../notify/webhook.js';
import {
  parseSenderInfo,
  parseZabbixFrame,
  sendZabbix,
  zabbixDrillItems,
  zabbixFrame,
  zabbixItems,
} from '../notify/zabbix.js';
import { parseListen, renderMetrics } from '../worker/metrics.js';
import { cliPath } from './helpers/rig.js';
import { startSmtpServer, startZabbixTrapper } from './helpers/fake-servers.js';
import { goodSummary } from './helpers/summaries.js';
import { docsWebhookVerifier } from './helpers/docs-webhook.js';

const good = goodSummary;
const failed: BackupSummary = {
  ...good,
  status: 'FAILED',
  snapshot: null,
  filesTransferred: 0,
  bytesTransferred: 0,
  message:
    'backup of vpn on b1 failed during transfer: rsync from root@vpn exited 255: ssh: connect to host vpn port 22:\nConnection refused',
};
const run = {
  workflowId: 'backup:vpn@b1',
  runId: '7b0c3f38-6a2c-4a57-9f0e-1d1c0a1b2c3d',
  url: 'http://127.0.0.1:8233/x',
};

test('status codes: SUCCESS 0, WARNING 1, FAILED 2, CANCELLED reported as WARNING', () => {
  assert.deepEqual(
    ['SUCCESS', 'WARNING', 'FAILED', 'CANCELLED'].map((status) => statusCode(status as BackupSummary['status'])),
    [0, 1, 2, 1],
  );
});

test('Icinga: passive result for host / BACKUP-<server>, one-line output with figures, perfdata, check source', () => {
  const body = icingaPayload({}, good);
  assert.deepEqual(body, {
    type: 'Service',
    filter: 'host.name==tidemark_host && service.name==tidemark_service',
    filter_vars: { tidemark_host: 'vpn', tidemark_service: 'BACKUP-b1' },
    exit_status: 0,
    plugin_output: 'BACKUP OK - 12 files, 3456 bytes in 4s, snapshot data/vpn@tidemark-20261123T101500Z',
    performance_data: ['bytes=3456B;;;0', 'files=12;;;0', 'duration=4.200s;;;0'],
    check_source: 'b1',
  });
  const critical = icingaPayload({ host: '{host}.example.org', service: 'backup {server}' }, failed);
  assert.equal(critical.exit_status, 2);
  assert.deepEqual(critical.filter_vars, { tidemark_host: 'vpn.example.org', tidemark_service: 'backup b1' });
  assert.equal(
    critical.plugin_output,
    'BACKUP CRITICAL - backup of vpn on b1 failed during transfer: rsync from root@vpn exited 255: ssh: connect to host vpn port 22: | Connection refused',
  );
  assert.ok(!critical.plugin_output.includes('\n'));
  assert.equal(
    icingaPayload({}, { ...good, status: 'WARNING', message: 'partial transfer (rsync exit 23)' }).plugin_output,
    'BACKUP WARNING - 12 files, 3456 bytes in 4s, snapshot data/vpn@tidemark-20261123T101500Z; partial transfer (rsync exit 23)',
  );
  assert.match(
    statusLine({ ...failed, status: 'CANCELLED', message: 'backup of vpn on b1 cancelled during transfer' }),
    /^BACKUP WARNING - cancelled: backup of vpn on b1 cancelled/,
  );
  assert.equal(statusLine({ ...failed, message: 'x'.repeat(5000) }).length, 1000);
  assert.deepEqual(performanceData(failed), ['bytes=0B;;;0', 'files=0;;;0', 'duration=4.200s;;;0']);
});

test('Zabbix: sender frame (ZBXD, 1, 8-byte length) round trip; items per server; last_success only on SUCCESS', () => {
  const frame = zabbixFrame({ request: 'sender data', data: [{ host: 'vpn', key: 'k', value: '1' }] });
  assert.equal(frame.toString('ascii', 0, 4), 'ZBXD');
  assert.equal(frame[4], 1);
  assert.equal(Number(frame.readBigUInt64LE(5)), frame.length - 13);
  assert.deepEqual(parseZabbixFrame(frame), { request: 'sender data', data: [{ host: 'vpn', key: 'k', value: '1' }] });
  assert.equal(parseZabbixFrame(frame.subarray(0, 20)), undefined, 'incomplete frame');
  assert.throws(() => parseZabbixFrame(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), /ZBXD/);

  const at = new Date('2026-11-23T10:15:00.123Z');
  const clock = Math.floor(at.getTime() / 1000);
  const stamp = { clock, ns: 123_000_000 };
  assert.deepEqual(zabbixItems({}, good, at), [
    { host: 'vpn', key: 'tidemark.discovery', value: '{"data":[{"{#SERVER}":"b1"}]}', ...stamp },
    { host: 'vpn', key: 'tidemark.status[b1]', value: '0', ...stamp },
    { host: 'vpn', key: 'tidemark.last_success[b1]', value: String(clock), ...stamp },
    { host: 'vpn', key: 'tidemark.bytes[b1]', value: '3456', ...stamp },
    { host: 'vpn', key: 'tidemark.files[b1]', value: '12', ...stamp },
    { host: 'vpn', key: 'tidemark.duration[b1]', value: '4', ...stamp },
    { host: 'vpn', key: 'tidemark.message[b1]', value: statusLine(good), ...stamp },
  ]);
  const failing = zabbixItems({ host: 'zbx-{host}' }, failed, at);
  assert.ok(failing.every((item) => item.host === 'zbx-vpn'));
  assert.deepEqual(failing.find((item) => item.key === 'tidemark.status[b1]')?.value, '2');
  assert.ok(!failing.some((item) => item.key.startsWith('tidemark.last_success')));
  assert.deepEqual(parseSenderInfo('processed: 5; failed: 1; total: 6; seconds spent: 0.000055'), {
    processed: 5,
    failed: 1,
    total: 6,
  });
});

test('Zabbix: a local trapper gets the items at once; the ones it refuses are named after a one-by-one pass', async () => {
  const trapper = await startZabbixTrapper();
  try {
    const detail = await sendZabbix({ type: 'zabbix', server: '127.0.0.1', port: trapper.port }, good, new Date());
    assert.match(detail, /^7 items to 127\.0\.0\.1:\d+ \(processed: 7; failed: 0/);
    assert.equal(trapper.batches.length, 1);
    assert.equal(trapper.batches[0]?.length, 7);
    trapper.refuseKeys = ['tidemark.files[b1]', 'tidemark.message[b1]'];
    await assert.rejects(
      sendZabbix({ type: 'zabbix', server: '127.0.0.1', port: trapper.port }, good, new Date()),
      (error: Error) => {
        assert.ok(!(error instanceof PermanentNotifyError), 'retried: the items may appear once Zabbix reloads');
        assert.match(
          error.message,
          /refused 2 of 7 items for host "vpn": tidemark\.files\[b1\], tidemark\.message\[b1\]; the template's discovery/,
        );
        return true;
      },
    );
    assert.deepEqual(
      trapper.batches.slice(2).map((batch) => batch.map((item) => item.key)),
      zabbixItems({}, good, new Date()).map((item) => [item.key]),
      'then each item alone',
    );
    trapper.refuseKeys = ['tidemark.discovery'];
    await assert.rejects(
      sendZabbix({ type: 'zabbix', server: '127.0.0.1', port: trapper.port, host: 'zbx-{host}' }, good, new Date()),
      /refused 1 of 7 items for host "zbx-vpn": tidemark\.discovery; link the template "Tidemark backup"/,
    );
  } finally {
    await trapper.close();
  }
  await assert.rejects(
    sendZabbix({ type: 'zabbix', server: '127.0.0.1', port: trapper.port }, good, new Date()),
    /Zabbix 127\.0\.0\.1:\d+: .*ECONNREFUSED/,
  );
});

test('webhook: body carries the run and the summary; signature is HMAC-SHA256 of "<timestamp>.<exact body>"', () => {
  const body = webhookBody(good, run);
  assert.deepEqual(JSON.parse(body), { event: 'backup.finished', ...run, summary: good });
  // Expected value from `printf '1700000000.The quick…' | openssl dgst -sha256 -hmac key`.
  assert.equal(
    webhookSignature('key', 1_700_000_000, 'The quick brown fox jumps over the lazy dog'),
    'sha256=2f658d6aef4f246e91cd741bbcded7479e9605f9d41c9e248122a117e0e1765b',
  );
  assert.notEqual(
    webhookSignature('key', 1_700_000_001, body),
    webhookSignature('key', 1_700_000_000, body),
    'the timestamp is signed',
  );
});

test('webhook: a good run after a FAILED one is marked as the recovery; no other run is', () => {
  const recovery = (summary: BackupSummary, previous?: BackupSummary['status']) =>
    (JSON.parse(webhookBody(summary, run, previous)) as { recovery?: boolean }).recovery;
  assert.equal(recovery(good, 'FAILED'), true, 'FAILED → SUCCESS: the recovery notice');
  assert.equal(recovery(good, 'SUCCESS'), undefined, 'SUCCESS → SUCCESS');
  assert.equal(recovery(good, undefined), undefined, 'a first run');
  assert.equal(recovery(failed, 'FAILED'), undefined, 'FAILED → FAILED');
});

test("webhook: README's verification snippet accepts a fresh delivery and rejects old, altered or unsigned ones", async () => {
  const verify = await docsWebhookVerifier();
  const body = webhookBody(good, run);
  const now = Date.parse('2026-11-23T10:15:00Z');
  const at = (seconds: number) => ({
    'x-tidemark-timestamp': String(seconds),
    'x-tidemark-signature': webhookSignature('s3cret', seconds, body),
  });
  const fresh = now / 1000 - 10;
  assert.equal(verify('s3cret', at(fresh), body, now), true);
  assert.equal(verify('s3cret', at(fresh), Buffer.from(body), now), true, 'a raw Buffer body');
  assert.equal(verify('s3cret', at(now / 1000 - 299), body, now), true, 'just under 5 minutes');
  assert.equal(verify('s3cret', at(now / 1000 - 301), body, now), false, 'a replay older than 5 minutes');
  assert.equal(verify('s3cret', at(now / 1000 + 600), body, now), false, 'from the future');
  assert.equal(verify('other', at(fresh), body, now), false, 'another secret');
  assert.equal(verify('s3cret', at(fresh), body.replace('SUCCESS', 'FAILED'), now), false, 'an altered body');
  assert.equal(
    verify('s3cret', { ...at(fresh), 'x-tidemark-timestamp': String(fresh + 1) }, body, now),
    false,
    'a moved timestamp',
  );
  const bodyOnly = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;
  assert.equal(
    verify('s3cret', { 'x-tidemark-timestamp': String(fresh), 'x-tidemark-signature': bodyOnly }, body, now),
    false,
    'the old body-only signature',
  );
  assert.equal(
    verify('s3cret', { 'x-tidemark-signature': at(fresh)['x-tidemark-signature'] }, body, now),
    false,
    'no timestamp',
  );
});

test('healthchecks: /start, plain URL on success and warning, /fail on failure, /log when cancelled, rid added', () => {
  assert.deepEqual(
    ['SUCCESS', 'WARNING', 'FAILED', 'CANCELLED'].map((status) => pingKind(status as BackupSummary['status'])),
    ['success', 'success', 'fail', 'log'],
  );
  assert.equal(pingUrl('https://hc.example/ping/abc', 'start', 'r1'), 'https://hc.example/ping/abc/start?rid=r1');
  assert.equal(pingUrl('https://hc.example/ping/abc/', 'fail', 'r1'), 'https://hc.example/ping/abc/fail?rid=r1');
  assert.equal(
    pingUrl('https://hc.example/ping/abc?create=1', 'success', 'r1'),
    'https://hc.example/ping/abc?create=1&rid=r1',
  );
});

test('mail: every failure mails; the first good run with a snapshot after a failure mails a recovery; nothing else', () => {
  assert.equal(mailKind(failed, undefined), 'failure');
  assert.equal(mailKind(failed, 'FAILED'), 'failure');
  assert.equal(mailKind(good, 'FAILED'), 'recovery');
  assert.equal(mailKind({ ...good, status: 'WARNING' }, 'FAILED'), 'recovery');
  assert.equal(
    mailKind({ ...good, status: 'WARNING', snapshot: null }, 'FAILED'),
    undefined,
    'a vetoed run copied nothing',
  );
  assert.equal(mailKind(good, 'SUCCESS'), undefined);
  assert.equal(mailKind(good, undefined), undefined);
  assert.equal(mailKind({ ...failed, status: 'CANCELLED' }, 'FAILED'), undefined);

  const target = { type: 'mail' as const, from: 'tidemark@b1.example', to: ['ops@example.org', 'oncall@example.org'] };
  const message = mailMessage(target, 'failure', failed, run, 'SUCCESS');
  assert.equal(message.subject, '[tidemark] FAILED: backup of vpn on b1');
  assert.equal(
    mailMessage(target, 'recovery', good, run, 'FAILED').subject,
    '[tidemark] RECOVERED: backup of vpn on b1',
  );
  assert.match(
    message.text,
    /Status: +FAILED \(previous run: SUCCESS\)\nMessage: +backup of vpn on b1 failed during transfer/,
  );
  assert.match(message.text, new RegExp(`Run: +backup:vpn@b1 ${run.runId}`));
  assert.equal(message.messageId, `${run.runId}.failure@tidemark.b1`);
});

test('mail delivery: lines starting with a dot and every recipient arrive; a refused recipient is a permanent error naming it', async () => {
  const smtp = await startSmtpServer();
  const target = { type: 'mail' as const, smtp: `127.0.0.1:${smtp.port}`, from: 'a@x.org', to: ['b@y.org', 'c@y.org'] };
  try {
    const reply = await deliverMail(target, {
      from: 'a@x.org',
      to: ['b@y.org', 'c@y.org'],
      subject: 'hello',
      text: 'line\n.dot\n..two\n',
      messageId: 'm1@x',
    });
    assert.match(reply, /queued as TEST1/);
    assert.equal(smtp.mails.length, 1);
    assert.deepEqual(smtp.mails[0]!.to, ['b@y.org', 'c@y.org']);
    assert.equal(smtp.mails[0]!.subject, 'hello');
    assert.equal(smtp.mails[0]!.text, 'line\n.dot\n..two\n');
    assert.match(smtp.mails[0]!.data, /^Message-ID: <m1@x>\r$/m);

    smtp.rcptReply = '550 5.1.1 no such user';
    await assert.rejects(
      deliverMail(
        { ...target, to: ['nobody@y.org'] },
        { from: 'a@x.org', to: ['nobody@y.org'], subject: 's', text: 't', messageId: 'm2@x' },
      ),
      (error: Error) => {
        assert.ok(error instanceof PermanentNotifyError, `${error.name}: ${error.message}`);
        assert.match(
          error.message,
          new RegExp(
            `^SMTP 127\\.0\\.0\\.1:${smtp.port} refused the mail \\(recipients nobody@y\\.org\\): .*550 5\\.1\\.1 no such user`,
          ),
        );
        return true;
      },
    );
  } finally {
    await smtp.close();
  }
});

test('state: previous settled status skips cancelled runs; a retried record answers the same; last success only on SUCCESS', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 23, 10, minute));
  let state = emptyState();
  const step = (summary: BackupSummary, runId: string, minute: number) => {
    const result = applyOutcome(state, summary, runId, at(minute));
    state = result.state;
    return result.previousStatus;
  };
  assert.equal(step(good, 'r1', 0), undefined);
  assert.equal(step(failed, 'r2', 1), 'SUCCESS');
  assert.equal(step(failed, 'r2', 2), 'SUCCESS', 'retried notify of the same run');
  assert.equal(step({ ...failed, status: 'CANCELLED' }, 'r3', 3), 'FAILED');
  assert.equal(step({ ...good, status: 'WARNING' }, 'r4', 4), 'FAILED', 'recovery is still seen after a cancelled run');
  const entry = state.hosts['vpn@b1']!;
  assert.equal(entry.last.status, 'WARNING');
  assert.equal(entry.settled, 'WARNING');
  assert.equal(entry.lastSuccessAt, at(0).toISOString());
  assert.equal(step(good, 'r5', 5), 'WARNING');
  assert.equal(state.hosts['vpn@b1']!.lastSuccessAt, at(5).toISOString());
});

test('metrics: gauges per host and server with escaped labels; parseListen', async () => {
  const { state } = applyOutcome(emptyState(), good, 'r1', new Date('2026-11-23T10:15:00Z'));
  const text = await renderMetrics([
    { host: 'vpn', server: 'b1', state: state.hosts['vpn@b1']!, zfs: { snapshots: 3, usedBytes: 123456 } },
    { host: 'odd"name', server: 'b1', zfs: { snapshots: 0, usedBytes: 1 } },
  ]);
  for (const line of [
    'tidemark_last_success_timestamp_seconds{host="vpn",server="b1"} 1795428900',
    'tidemark_last_status{host="vpn",server="b1"} 0',
    'tidemark_transferred_bytes{host="vpn",server="b1"} 3456',
    'tidemark_transferred_files{host="vpn",server="b1"} 12',
    'tidemark_duration_seconds{host="vpn",server="b1"} 4.2',
    'tidemark_snapshots{host="vpn",server="b1"} 3',
    'tidemark_dataset_used_bytes{host="vpn",server="b1"} 123456',
    'tidemark_dataset_used_bytes{host="odd\\"name",server="b1"} 1',
    '# TYPE tidemark_last_status gauge',
    'tidemark_zfs_up 1',
  ]) {
    assert.ok(text.split('\n').includes(line), `missing: ${line}\n${text}`);
  }
  assert.ok(!text.includes('tidemark_last_status{host="odd'), 'no run recorded: no status line');
  assert.deepEqual(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListen('[::1]:9464'), { host: '::1', port: 9464 });
  assert.deepEqual(parseListen('9464'), { host: '127.0.0.1', port: 9464 });
  assert.throws(() => parseListen('nope'), /expected host:port/);
});

const base =
  'servers: { b1: { dataset: data }, b2: { dataset: tank/backup } }\nhosts: { vpn: { address: vpn.example.org }, web: { address: 10.0.0.2, servers: [b2] } }\n';

test('inventory: notify targets at top level and per server, with ids; errors name the field', () => {
  const inventory = parseInventory(
    'hosts: { vpn: { address: vpn.example.org } }\nnotify:\n' +
      '  - { type: icinga, url: "https://127.0.0.1:5665", user: tidemark, passwordFile: /etc/tidemark/icinga.pw, caFile: /var/lib/icinga2/certs/ca.crt }\n' +
      '  - { type: webhook, url: "https://hooks.example.org/{host}", secretFile: /etc/tidemark/hook.secret, attempts: 3 }\n' +
      'servers:\n  b1: { dataset: data, metrics: "127.0.0.1:9464", stateFile: /var/lib/tidemark/b1.json, notify: [{ type: zabbix, server: 127.0.0.1 }, { type: mail, from: tidemark@b1.example, to: [ops@example.org] }] }\n  b2: { dataset: tank/backup }\n',
  );
  assert.deepEqual(resolveNotifyTargets(inventory, 'b1').map(targetRef), [
    { id: 'notify.0', type: 'icinga', attempts: 5 },
    { id: 'notify.1', type: 'webhook', attempts: 3 },
    { id: 'servers.b1.notify.0', type: 'zabbix', attempts: 5 },
    { id: 'servers.b1.notify.1', type: 'mail', attempts: 5 },
  ]);
  assert.deepEqual(
    resolveNotifyTargets(inventory, 'b2').map((target) => target.id),
    ['notify.0', 'notify.1'],
  );

  const rejects = (yaml: string, message: RegExp) =>
    assert.throws(
      () => parseInventory(`${base}${yaml}`),
      (error: Error) => (assert.match(error.message, message), true),
    );
  rejects(
    'notify: [{ type: pager, url: "https://x" }]',
    /^notify\.0(\.type)?: .*icinga, webhook, healthchecks, zabbix, mail/m,
  );
  rejects(
    'notify: [{ type: webhook, url: "ftp://x.org/" }]',
    /^notify\.0\.url: expected an http:\/\/ or https:\/\/ URL/m,
  );
  rejects(
    'notify: [{ type: icinga, url: "https://x:5665", user: t, password: hunter2 }]',
    /notify\.0\.password: unknown key/m,
  );
  rejects('notify: [{ type: icinga, url: "https://x:5665", user: t }]', /^notify\.0\.passwordFile: missing/m);
  rejects(
    'notify: [{ type: mail, from: tidemark, to: [] }]',
    /^notify\.0\.from: expected a mail address[\s\S]*^notify\.0\.to: list at least one address/m,
  );
  rejects(
    'notify: [{ type: zabbix, server: "127.0.0.1:10051" }]',
    /^notify\.0\.server: expected a host name or address without port/m,
  );
  rejects(
    'notify: [{ type: zabbix, server: zbx, apiUrl: "https://zbx/api_jsonrpc.php" }]',
    /^notify\.0\.apiTokenFile: set both apiUrl and apiTokenFile/m,
  );
  rejects(
    'notify: [{ type: healthchecks, url: "https://hc/x", attempts: 0 }]',
    /^notify\.0\.attempts: expected an integer 1-20/m,
  );
  assert.throws(
    () => parseInventory('servers: { b1: { dataset: data, metrics: 9464 } }\nhosts: {}\n'),
    /servers\.b1\.metrics: expected host:port/,
  );
});

test('tidemark hosts --zabbix prints low-level discovery data of every (host, server)', async () => {
  const dir = await mkdtemp('/tmp/tidemark-hosts-');
  const path = join(dir, 'tidemark.yaml');
  await writeFile(path, base);
  const zabbix = await execa(process.execPath, [cliPath, '--config', path, 'hosts', '--zabbix']);
  assert.deepEqual(JSON.parse(zabbix.stdout), {
    data: [
      { '{#HOST}': 'vpn', '{#SERVER}': 'b1' },
      { '{#HOST}': 'vpn', '{#SERVER}': 'b2' },
      { '{#HOST}': 'web', '{#SERVER}': 'b2' },
    ],
  });
  const one = await execa(process.execPath, [cliPath, '--config', path, 'hosts', '--server', 'b1', '--zabbix']);
  assert.deepEqual(JSON.parse(one.stdout), { data: [{ '{#HOST}': 'vpn', '{#SERVER}': 'b1' }] });
  const table = await execa(process.execPath, [cliPath, '--config', path, 'hosts']);
  assert.equal(table.stdout, 'HOST  SERVER\nvpn   b1\nvpn   b2\nweb   b2');
  const json = await execa(process.execPath, [cliPath, '--config', path, 'hosts', '--server', 'b2', '--json']);
  assert.deepEqual(JSON.parse(json.stdout), [
    { host: 'vpn', server: 'b2' },
    { host: 'web', server: 'b2' },
  ]);
  const unknown = await execa(process.execPath, [cliPath, '--config', path, 'hosts', '--server', 'nope'], {
    reject: false,
  });
  assert.equal(unknown.exitCode, 2);
});

test('pool metrics: free bytes and health per pool', async () => {
  const text = await renderMetrics([], true, {
    pool: 'data',
    health: 'DEGRADED',
    availableBytes: 123456789,
    sizeBytes: 10 ** 12,
  });
  assert.match(text, /^tidemark_pool_free_bytes\{pool="data"\} 123456789$/m);
  assert.match(text, /^tidemark_pool_healthy\{pool="data",health="DEGRADED"\} 0$/m);
  assert.match(
    await renderMetrics([], true, { pool: 'data', health: 'ONLINE', availableBytes: 1, sizeBytes: 2 }),
    /^tidemark_pool_healthy\{pool="data",health="ONLINE"\} 1$/m,
  );
});

const passedDrill: DrillOutcome = {
  host: 'vpn',
  server: 'b1',
  status: 'SUCCESS',
  message: 'restore drill of data/vpn@tidemark-20261123T101500Z: 200 of 200 files verified',
  verified: 200,
  mismatched: 0,
  finishedAt: '2026-11-23T10:20:00.250Z',
};
const failedDrill: DrillOutcome = {
  ...passedDrill,
  status: 'FAILED',
  message:
    'restore drill of data/vpn@tidemark-20261123T101500Z FAILED: 1 file(s) differ from the host, 0 restored wrongly',
  verified: 199,
  mismatched: 1,
  previousStatus: 'SUCCESS',
};

test('Icinga drill: its own service RESTORE-DRILL-<server> (or drillService), drill line, verified/mismatched perfdata', () => {
  assert.deepEqual(icingaDrillPayload({}, failedDrill), {
    type: 'Service',
    filter: 'host.name==tidemark_host && service.name==tidemark_service',
    filter_vars: { tidemark_host: 'vpn', tidemark_service: 'RESTORE-DRILL-b1' },
    exit_status: 2,
    plugin_output: `RESTORE DRILL CRITICAL - ${failedDrill.message}`,
    performance_data: ['verified=199;;;0', 'mismatched=1;;;0'],
    check_source: 'b1',
  });
  const named = icingaDrillPayload({ host: 'srv-{host}', drillService: 'drill {server}' }, passedDrill);
  assert.deepEqual(named.filter_vars, { tidemark_host: 'srv-vpn', tidemark_service: 'drill b1' });
  assert.equal(named.exit_status, 0);
  // The backup service's template is not the drill's.
  const backupNamed = { service: 'BACKUP' };
  assert.equal(icingaDrillPayload(backupNamed, passedDrill).filter_vars.tidemark_service, 'RESTORE-DRILL-b1');
});

test('Zabbix drill: discovery then tidemark.drill.* items at the drill finish, last_success on SUCCESS only', () => {
  const finished = new Date(passedDrill.finishedAt!);
  const items = zabbixDrillItems({}, passedDrill, finished);
  const clock = Math.floor(finished.getTime() / 1000);
  assert.deepEqual(
    items.map(({ key, value }) => [key, value]),
    [
      ['tidemark.discovery', '{"data":[{"{#SERVER}":"b1"}]}'],
      ['tidemark.drill.status[b1]', '0'],
      ['tidemark.drill.last_success[b1]', String(clock)],
      ['tidemark.drill.verified[b1]', '200'],
      ['tidemark.drill.mismatched[b1]', '0'],
      ['tidemark.drill.message[b1]', `RESTORE DRILL OK - ${passedDrill.message}`],
    ],
  );
  assert.ok(items.every((item) => item.host === 'vpn' && item.clock === clock && item.ns === 250_000_000));
  const failedKeys = zabbixDrillItems({ host: 'z-{host}' }, failedDrill, finished).map((item) => item.key);
  assert.ok(!failedKeys.includes('tidemark.drill.last_success[b1]'));
  assert.equal(zabbixDrillItems({}, failedDrill, finished)[1]!.value, '2');
});

test('webhook drill: event restore-drill.finished with the run and the drill; recovery after a FAILED drill', () => {
  const body = JSON.parse(drillWebhookBody(failedDrill, run)) as DrillWebhookBody;
  assert.deepEqual(body, { event: 'restore-drill.finished', ...run, drill: failedDrill });
  const recovered = JSON.parse(drillWebhookBody({ ...passedDrill, previousStatus: 'FAILED' }, run)) as DrillWebhookBody;
  assert.equal(recovered.recovery, true);
  assert.equal((JSON.parse(drillWebhookBody(passedDrill, run)) as DrillWebhookBody).recovery, undefined);
});

test('mail drill: a FAILED drill mails, the first passing one after it a recovery, nothing else', () => {
  assert.equal(drillMailKind(failedDrill), 'failure');
  assert.equal(drillMailKind({ ...failedDrill, previousStatus: 'FAILED' }), 'failure');
  assert.equal(drillMailKind({ status: 'SUCCESS', previousStatus: 'FAILED' }), 'recovery');
  assert.equal(drillMailKind({ status: 'WARNING', previousStatus: 'FAILED' }), 'recovery');
  assert.equal(drillMailKind(passedDrill), undefined);
  assert.equal(drillMailKind({ status: 'WARNING', previousStatus: 'SUCCESS' }), undefined);
  const target = { type: 'mail' as const, from: 'tidemark@b1.example', to: ['ops@example.org'] };
  const mail = drillMailMessage(target, 'failure', failedDrill, { ...run, workflowId: 'restore-drill:vpn@b1' });
  assert.equal(mail.subject, '[tidemark] FAILED: restore drill of vpn on b1');
  assert.match(
    mail.text,
    /^The restore drill of vpn on b1 failed\.\n\nStatus: {4}FAILED \(previous drill: SUCCESS\)\n/,
  );
  assert.match(mail.text, /^Message: {3}restore drill of data\/vpn@tidemark-20261123T101500Z FAILED: 1 file/m);
  assert.match(mail.text, /^Verified: {2}199\nDiffering: 1\nRun: {7}restore-drill:vpn@b1 7b0c3f38/m);
  assert.equal(mail.messageId, `${run.runId}.failure@tidemark.b1`);
});
