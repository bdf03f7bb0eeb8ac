// Secrets on the backup server: secret files open to group or others are refused with the fix, and
// URLs in notify errors lose their credentials and query strings.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BackupSummary } from '../domain/backup.js';
import { readNetboxToken, NetboxError } from '../inventory/netbox.js';
import { readSecret, redactUrl, redactUrls } from '../notify/http.js';
import { sendIcinga } from '../notify/icinga.js';
import { PermanentNotifyError } from '../notify/targets.js';
import { sendWebhook } from '../notify/webhook.js';
import { startHttpReceiver, type HttpReceiver } from './helpers/fake-servers.js';

const dir = mkdtempSync(join(tmpdir(), 'tidemark-secrets-'));
const password = 'icinga-pw-7f3a9c';

function secretFile(name: string, text: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  // chmod, not writeFile's mode: the umask must not decide what the test checks.
  chmodSync(path, mode);
  return path;
}

const summary: BackupSummary = {
  host: 'vpn',
  server: 'b1',
  status: 'SUCCESS',
  dataset: 'data/vpn',
  snapshot: 'data/vpn@tidemark-20261123T101500Z',
  filesTransferred: 1,
  bytesTransferred: 2,
  bytesReceived: 3,
  durationMs: 4,
  message: 'ok',
};

let receiver: HttpReceiver;
before(async () => {
  receiver = await startHttpReceiver();
});
after(async () => {
  await receiver.close();
});

test('a secret file group or others can read is refused, naming the file and "chmod 600"; 0600 and 0400 are read', async () => {
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o606]) {
    const path = secretFile(`pw-${mode.toString(8)}`, `${password}\n`, mode);
    await assert.rejects(readSecret(path, 'Icinga password'), (error: Error) => {
      assert.ok(error instanceof PermanentNotifyError, 'not retried: waiting will not fix it');
      assert.equal(
        error.message,
        `the Icinga password file ${path} is open to group or others (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
      );
      assert.ok(!error.message.includes(password));
      return true;
    });
  }
  assert.equal(await readSecret(secretFile('pw-600', `${password}\n`, 0o600), 'Icinga password'), password);
  assert.equal(await readSecret(secretFile('pw-400', `${password}\n`, 0o400), 'Icinga password'), password);
  await assert.rejects(
    readSecret(join(dir, 'missing'), 'webhook secret'),
    new RegExp(`^PermanentNotifyError: cannot read the webhook secret file ${dir}/missing: ENOENT`),
  );
});

test('the NetBox token file is held to the same rule', async () => {
  const token = 'nbt_0123456789abcdef';
  const open = secretFile('netbox-token-644', `${token}\n`, 0o644);
  const base = { url: 'https://netbox.example.org', tag: 'Backup', address: 'primary_ip' as const, timeoutMs: 1_000 };
  await assert.rejects(readNetboxToken({ ...base, tokenFile: open }), (error: Error) => {
    assert.ok(error instanceof NetboxError);
    assert.equal(
      error.message,
      `the NetBox token file ${open} is open to group or others (mode 644); run: chmod 600 ${open}`,
    );
    return true;
  });
  assert.equal(
    await readNetboxToken({ ...base, tokenFile: secretFile('netbox-token-600', `${token}\n`, 0o600) }),
    token,
  );
});

test('the notify targets refuse an open secret file before sending anything', async () => {
  receiver.requests.length = 0;
  const open = secretFile('hook-644', 'hook-secret\n', 0o644);
  const run = { workflowId: 'backup:vpn@b1', runId: 'r1', url: 'http://127.0.0.1:8233/x' };
  await assert.rejects(
    sendWebhook({ type: 'webhook', url: `${receiver.url}/hook`, secretFile: open }, summary, run),
    /is open to group or others \(mode 644\); run: chmod 600 /,
  );
  const icinga = {
    type: 'icinga' as const,
    url: receiver.url,
    user: 'tidemark',
    passwordFile: secretFile('icinga-644', password, 0o644),
  };
  await assert.rejects(sendIcinga(icinga, summary), /is open to group or others \(mode 644\); run: chmod 600 /);
  assert.equal(receiver.requests.length, 0, 'no request went out');
});

test('URLs in messages lose user:password@, ?query and #fragment', () => {
  assert.equal(
    redactUrl('https://tidemark:s3cret@icinga.example.org:5665/v1?password=p&x=1#frag'),
    'https://icinga.example.org:5665/v1',
  );
  assert.equal(redactUrl('https://icinga.example.org:5665'), 'https://icinga.example.org:5665/');
  assert.equal(redactUrl('not a url'), '(unparsable URL)');
  assert.equal(
    redactUrls(
      'GET https://u:p@a.example/x?token=t: failed; see "http://b.example/?api_key=k" and (https://c.example/ok).',
    ),
    'GET https://a.example/x: failed; see "http://b.example/" and (https://c.example/ok).',
  );
});

test('Icinga errors name the API without the credentials or query string of its URL', async () => {
  const passwordFile = secretFile('icinga-600', `${password}\n`, 0o600);
  const url = `http://tidemark:url-pw-55aa@127.0.0.1:${receiver.port}/?password=query-pw-66bb`;
  const target = { type: 'icinga' as const, url, user: 'tidemark', passwordFile };
  for (const [status, message] of [
    [401, `Icinga API http://127.0.0.1:${receiver.port}/ refused user "tidemark" (HTTP 401)`],
    [500, `Icinga API http://127.0.0.1:${receiver.port}/ answered HTTP 500: nope`],
  ] as const) {
    receiver.respond = () => status;
    const error = await sendIcinga(target, summary).then(
      () => assert.fail('expected a failure'),
      (failure: Error) => failure,
    );
    assert.ok(error.message.startsWith(message), error.message);
    for (const secret of ['url-pw-55aa', 'query-pw-66bb', password])
      assert.ok(!error.message.includes(secret), `${secret} in: ${error.message}`);
  }
  receiver.respond = () => 200;
  // Nothing listening: the network error names the origin only.
  const closed = await startHttpReceiver();
  await closed.close();
  const down = `http://tidemark:url-pw-55aa@127.0.0.1:${closed.port}/?password=query-pw-66bb`;
  await assert.rejects(sendIcinga({ ...target, url: down }, summary), (error: Error) => {
    assert.match(error.message, new RegExp(`^POST http://127\\.0\\.0\\.1:${closed.port}: .*(ECONNREFUSED|refused)`));
    for (const secret of ['url-pw-55aa', 'query-pw-66bb', password])
      assert.ok(!error.message.includes(secret), error.message);
    return true;
  });
});
