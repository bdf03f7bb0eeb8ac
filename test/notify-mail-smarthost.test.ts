// The mail target through a smarthost: a real SMTP server (smtp-server) on 127.0.0.1 that offers STARTTLS
// with a certificate made here by openssl and requires AUTH. Mail arrives over TLS after login, a wrong
// password fails with an error that names the user and the file but not the password, non-ASCII text
// is encoded on the wire and decodes back intact, and through a worker the password stays out of every
// history, the worker's output and the CLI's output.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BackupSummary } from '../domain/backup.js';
import { backupWorkflowId } from '../domain/names.js';
import { parseInventory } from '../inventory/load.js';
import { sendFailureMail } from '../notify/mail.js';
import { deliverMail } from '../notify/mail-transport.js';
import type { MailTarget } from '../inventory/notify-schema.js';
import { PermanentNotifyError } from '../notify/targets.js';
import { selfSignedCertificate } from './helpers/certificates.js';
import { startSmtpServer, type SmtpServer } from './helpers/fake-servers.js';
import { allRunsText } from './helpers/history.js';
import { editInventory } from './helpers/inventory-edit.js';
import { backupWithHostDown, createRig, recordCliOutput, type Rig } from './helpers/rig.js';

const dir = mkdtempSync(join(tmpdir(), 'tidemark-smarthost-'));
const password = 'smtp-pw-4c1e8b2d';
const wrongPassword = 'not-the-pw-93ad07';
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');

function secretFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return path;
}
const passwordFile = secretFile('smtp.pw', `${password}\n`);
const wrongPasswordFile = secretFile('wrong.pw', `${wrongPassword}\n`);

let smarthost: SmtpServer;
let smarthostTarget: MailTarget;

before(async () => {
  // A self-signed certificate for 127.0.0.1: the target trusts it through caFile.
  await selfSignedCertificate({ subject: '/CN=smarthost.test', keyFile, outFile: certFile }, [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  smarthost = await startSmtpServer({
    tls: { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') },
    auth: { user: 'tidemark', password },
  });
  smarthostTarget = {
    type: 'mail',
    smtp: `127.0.0.1:${smarthost.port}`,
    starttls: 'required',
    caFile: certFile,
    user: 'tidemark',
    passwordFile,
    from: 'tidemark@backup.example',
    to: ['ops@example.org'],
  };
});
after(async () => {
  await smarthost.close();
});

const failed: BackupSummary = {
  host: 'vpn',
  server: 'b1',
  status: 'FAILED',
  dataset: 'data/vpn',
  snapshot: null,
  filesTransferred: 0,
  bytesTransferred: 0,
  bytesReceived: 0,
  durationMs: 1_500,
  message:
    'backup of vpn on b1 failed during transfer: rsync from root@vpn exited 255: ssh: connect to host vpn port 22: Connection refused',
};
const run = {
  workflowId: 'backup:vpn@b1',
  runId: '7b0c3f38-6a2c-4a57-9f0e-1d1c0a1b2c3d',
  url: 'http://127.0.0.1:8233/x',
};

test('a failure mail through STARTTLS and AUTH arrives with its content, sent over TLS by the logged-in user', async () => {
  const before = smarthost.mails.length;
  const detail = await sendFailureMail(smarthostTarget, failed, run, 'SUCCESS');
  assert.match(detail ?? '', /^failure mail to ops@example\.org \(250 .*queued as TEST1\)$/);
  assert.equal(smarthost.mails.length, before + 1);
  const mail = smarthost.mails.at(-1)!;
  assert.equal(mail.secure, true, 'STARTTLS before the message');
  assert.equal(mail.user, 'tidemark', 'AUTH before the message');
  assert.equal(mail.from, 'tidemark@backup.example');
  assert.deepEqual(mail.to, ['ops@example.org']);
  assert.equal(mail.subject, '[tidemark] FAILED: backup of vpn on b1');
  assert.match(mail.text, /^Status: +FAILED \(previous run: SUCCESS\)$/m);
  assert.match(
    mail.text,
    /^Message: +backup of vpn on b1 failed during transfer: rsync from root@vpn exited 255: ssh: connect to host vpn port 22: Connection refused$/m,
  );
  assert.match(mail.text, new RegExp(`^Run: +backup:vpn@b1 ${run.runId}$`, 'm'));
  assert.match(mail.data, new RegExp(`^Message-ID: <${run.runId}\\.failure@tidemark\\.b1>\\r$`, 'm'));
});

test('a wrong password fails permanently, naming the user and the password file, never the password', async () => {
  const before = smarthost.mails.length;
  await assert.rejects(
    sendFailureMail({ ...smarthostTarget, passwordFile: wrongPasswordFile }, failed, run, 'SUCCESS'),
    (error: Error) => {
      assert.ok(error instanceof PermanentNotifyError, `${error.name}: ${error.message}`);
      assert.match(
        error.message,
        new RegExp(
          `^SMTP 127\\.0\\.0\\.1:${smarthost.port} refused AUTH for user "tidemark": .*535 .*; check user and the password in passwordFile ${wrongPasswordFile}$`,
        ),
      );
      assert.ok(!error.message.includes(wrongPassword) && !error.message.includes(password), error.message);
      assert.ok(!String(error.stack).includes(wrongPassword), 'nor in the stack');
      return true;
    },
  );
  assert.equal(smarthost.mails.length, before, 'nothing was delivered');
});

test('TLS problems are permanent and name the fix: an untrusted certificate, STARTTLS required but not offered', async () => {
  const { caFile: _caFile, ...withoutCa } = smarthostTarget;
  await assert.rejects(
    deliverMail(withoutCa, { from: 'a@x.org', to: ['b@y.org'], subject: 's', text: 't', messageId: 'tls1@x' }),
    (error: Error) => {
      assert.ok(error instanceof PermanentNotifyError);
      assert.match(error.message, /TLS certificate was not accepted: .*self-signed.*; set caFile/);
      return true;
    },
  );
  const plain = await startSmtpServer();
  try {
    const { user: _user, passwordFile: _file, ...noAuth } = smarthostTarget;
    await assert.rejects(
      deliverMail(
        { ...noAuth, smtp: `127.0.0.1:${plain.port}` },
        { from: 'a@x.org', to: ['b@y.org'], subject: 's', text: 't', messageId: 'tls2@x' },
      ),
      (error: Error) => {
        assert.ok(error instanceof PermanentNotifyError);
        assert.match(error.message, /STARTTLS failed: .*; the server must offer STARTTLS/);
        return true;
      },
    );
    assert.equal(plain.mails.length, 0, 'required means no mail in clear');
  } finally {
    await plain.close();
  }
});

test('starttls off (the default) sends in plain even when STARTTLS is offered; opportunistic takes it', async () => {
  const relay = await startSmtpServer({
    tls: { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') },
  });
  try {
    const message = { from: 'a@x.org', to: ['b@y.org'], subject: 's', text: 't', messageId: 'off@x' };
    await deliverMail({ type: 'mail', smtp: `127.0.0.1:${relay.port}`, from: 'a@x.org', to: ['b@y.org'] }, message);
    await deliverMail(
      {
        type: 'mail',
        smtp: `127.0.0.1:${relay.port}`,
        starttls: 'opportunistic',
        caFile: certFile,
        from: 'a@x.org',
        to: ['b@y.org'],
      },
      { ...message, messageId: 'opp@x' },
    );
    assert.deepEqual(
      relay.mails.map((mail) => mail.secure),
      [false, true],
    );
  } finally {
    await relay.close();
  }
});

test('a non-ASCII subject and body are RFC 2047 / quoted-printable on the wire and decode back intact', async () => {
  const subject = 'Sicherung fehlgeschlagen: Größe ✓';
  const text = 'Größe: 3 GiB ✓\nDatei: /srv/Übersicht – März.txt\n.eine Zeile mit Punkt\n';
  await deliverMail(smarthostTarget, {
    from: 'tidemark@backup.example',
    to: ['ops@example.org'],
    subject,
    text,
    messageId: 'utf8@x',
  });
  const mail = smarthost.mails.at(-1)!;
  assert.ok(/^[\t\r\n\x20-\x7e]*$/.test(mail.data), 'only 7-bit ASCII on the wire: no relay can garble it');
  const header = /^Subject: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)/m.exec(mail.data)?.[1] ?? '';
  assert.match(
    header,
    /^=\?UTF-8\?[QB]\?[^?]+\?=(?:\r\n =\?UTF-8\?[QB]\?[^?]+\?=)*$/,
    `RFC 2047 encoded words: ${header}`,
  );
  assert.match(mail.data, /^Content-Type: text\/plain; charset=utf-8\r$/m);
  assert.match(mail.data, /^Content-Transfer-Encoding: (quoted-printable|base64)\r$/m);
  assert.equal(mail.subject, subject);
  assert.equal(mail.text, text);
});

test('inventory: the smarthost options, their combinations and errors naming the field', () => {
  const base = 'servers: { b1: { dataset: data } }\nhosts: { vpn: { address: vpn.example.org } }\n';
  const mail = (extra: string) =>
    `${base}notify: [{ type: mail, from: t@b1.example, to: [ops@example.org]${extra} }]\n`;
  const parsed = parseInventory(
    mail(
      ', smtp: "mail.example.org:587", starttls: required, caFile: /etc/ssl/ca.pem, user: tidemark, passwordFile: /etc/tidemark/smtp.pw',
    ),
  );
  assert.deepEqual(parsed.notify?.[0], {
    type: 'mail',
    from: 't@b1.example',
    to: ['ops@example.org'],
    smtp: 'mail.example.org:587',
    starttls: 'required',
    caFile: '/etc/ssl/ca.pem',
    user: 'tidemark',
    passwordFile: '/etc/tidemark/smtp.pw',
  });
  const rejects = (extra: string, message: RegExp) =>
    assert.throws(
      () => parseInventory(mail(extra)),
      (error: Error) => (assert.match(error.message, message), true),
    );
  rejects(', starttls: yes', /^notify\.0\.starttls: expected off, opportunistic or required/m);
  rejects(', starttls: required, user: tidemark', /^notify\.0\.passwordFile: user is set: also set passwordFile/m);
  rejects(
    ', starttls: required, passwordFile: /etc/tidemark/smtp.pw',
    /^notify\.0\.user: passwordFile is set: also set user/m,
  );
  rejects(
    ', user: tidemark, passwordFile: /etc/tidemark/smtp.pw',
    /^notify\.0\.starttls: got off \(the default\), but with user set the password must not cross the network in clear: set starttls: required/m,
  );
  rejects(
    ', starttls: opportunistic, user: tidemark, passwordFile: /etc/tidemark/smtp.pw',
    /^notify\.0\.starttls: got opportunistic, but with user set/m,
  );
  rejects(', caFile: /etc/ssl/ca.pem', /^notify\.0\.starttls: caFile and tlsServerName only apply with TLS/m);
  rejects(
    ', starttls: required, user: t, passwordFile: smtp.pw',
    /^notify\.0\.passwordFile: expected an absolute path/m,
  );
  rejects(', password: hunter2', /^notify\.0\.password: unknown key/m);
});

// Through a worker: the target is read from the worker's inventory, the password from its file at send time.
let rig: Rig | undefined;
const cliOutput: string[] = [];

test('through a worker: a failed run mails via STARTTLS+AUTH; with a wrong password the recovery mail is refused at AUTH and reported', async () => {
  rig = await createRig('smarthost');
  recordCliOutput(rig, cliOutput);
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  editInventory(rig, (inventory) => {
    inventory.servers[rig!.server].notify = [{ ...smarthostTarget, attempts: 2 }];
  });
  await rig.startWorker();

  const before = smarthost.mails.length;
  assert.equal((await backupWithHostDown(rig)).exitCode, 1);
  assert.equal(smarthost.mails.length, before + 1);
  const mail = smarthost.mails.at(-1)!;
  assert.deepEqual({ secure: mail.secure, user: mail.user }, { secure: true, user: 'tidemark' });
  assert.equal(mail.subject, `[tidemark] FAILED: backup of demo-host on ${rig.server}`);

  editInventory(rig, (inventory) => {
    inventory.servers[rig!.server].notify[0].passwordFile = wrongPasswordFile;
  });
  // The next good run mails the recovery: refused at AUTH, reported beside a backup that succeeded.
  const refused = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(refused.exitCode, 0, refused.stderr);
  assert.match(
    refused.stderr,
    /notify servers\.\S+\.notify\.0 \(mail\) failed: SMTP 127\.0\.0\.1:\d+ refused AUTH for user "tidemark"/,
  );
  assert.equal(smarthost.mails.length, before + 1, 'no mail without a login');
  const summary = (await rig.client.workflow
    .getHandle(backupWorkflowId(rig.hostName, rig.server))
    .result()) as BackupSummary;
  assert.deepEqual(
    summary.notifications?.map(({ type, ok }) => ({ type, ok })),
    [{ type: 'mail', ok: false }],
  );
});

test('the SMTP passwords are in no history of these runs, no worker output and no CLI output', async () => {
  assert.ok(rig, 'the worker test ran');
  const { runs, text } = await allRunsText(rig.client, backupWorkflowId(rig.hostName, rig.server));
  assert.ok(runs >= 2, `every run is searched (found ${runs})`);
  assert.ok(
    text.includes('refused AUTH for user "tidemark"'),
    'the refused login is in a history (sanity check of the search)',
  );
  for (const secret of [password, wrongPassword]) {
    assert.ok(!text.includes(secret), 'password in a history');
    assert.ok(!rig.workerOutput().includes(secret), 'password in the worker output');
    assert.ok(!cliOutput.join('\n').includes(secret), 'password in the CLI output');
  }
  assert.ok(rig.workerOutput().includes('polling'), 'the worker output was captured');
});

after(async () => {
  await rig?.close();
});
