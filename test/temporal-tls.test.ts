// A secured Temporal: the suite's dev server behind a TLS proxy that requires a client certificate (as a
// production cluster with mutual TLS does). The CLI and a worker connect with the configured certificates
// and a backup runs; without the client certificate both stop with exit 4 and say what to set.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { ExitCode } from '../domain/errors.js';
import { certificateRequest, selfSignedCertificate } from './helpers/certificates.js';
import { cliPath, createRig, testServices, type Rig } from './helpers/rig.js';
import { buildSampleTree, describeTree } from './helpers/tree.js';

const serverName = 'temporal.tidemark.test';

/** A CA, a server certificate for `serverName` and a client certificate it signed, made with openssl. */
async function makeCertificates(
  dir: string,
): Promise<Record<'ca' | 'caKey' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string>> {
  const path = (name: string) => join(dir, name);
  await selfSignedCertificate({ subject: '/CN=Tidemark test CA', keyFile: path('ca.key'), outFile: path('ca.pem') });
  for (const [name, cn, extension] of [
    ['server', serverName, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth`],
    ['client', 'backup-1.tidemark.test', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(path(`${name}.ext`), `${extension}\n`);
    await certificateRequest({ subject: `/CN=${cn}`, keyFile: path(`${name}.key`), outFile: path(`${name}.csr`) });
    await execa(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        path(`${name}.csr`),
        '-CA',
        path('ca.pem'),
        '-CAkey',
        path('ca.key'),
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        path(`${name}.ext`),
        '-out',
        path(`${name}.pem`),
      ],
      { cwd: dir },
    );
  }
  return {
    ca: path('ca.pem'),
    caKey: path('ca.key'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
  };
}

/** Terminates TLS (HTTP/2 only, client certificate required) and pipes the plain bytes to the dev server. */
function startProxy(
  certs: Awaited<ReturnType<typeof makeCertificates>>,
  upstream: string,
): Promise<{ server: Server; port: number; clients: string[]; refused: string[] }> {
  const [host, port] = [upstream.replace(/:\d+$/, ''), Number(upstream.split(':').pop())];
  const clients: string[] = [];
  const refused: string[] = [];
  const server = createTlsServer(
    {
      ALPNProtocols: ['h2'],
      requestCert: true,
      rejectUnauthorized: true,
      ca: readFileSync(certs.ca),
      key: readFileSync(certs.serverKey),
      cert: readFileSync(certs.serverCert),
    },
    (socket: TLSSocket) => {
      clients.push(String(socket.getPeerCertificate().subject?.CN));
      const backend = connectTcp(port, host);
      socket.pipe(backend).pipe(socket);
      const close = () => {
        socket.destroy();
        backend.destroy();
      };
      socket.on('error', close);
      backend.on('error', close);
      socket.on('close', close);
      backend.on('close', close);
    },
  );
  server.on('tlsClientError', (error) => refused.push(error.message));
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, clients, refused }),
    ),
  );
}

let rig: Rig;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let certs: Awaited<ReturnType<typeof makeCertificates>>;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tidemark-tls-'));
  certs = await makeCertificates(dir);
  proxy = await startProxy(certs, testServices().temporal);
  // The certificates come from a temporal.toml profile, as `temporal config set` writes it; the inventory names it.
  const toml = join(dir, 'temporal.toml');
  writeFileSync(
    toml,
    [
      '[profile.backup]',
      `address = "127.0.0.1:${proxy.port}"`,
      '[profile.backup.tls]',
      `server_name = "${serverName}"`,
      `server_ca_cert_path = "${certs.ca}"`,
      `client_cert_path = "${certs.clientCert}"`,
      `client_key_path = "${certs.clientKey}"`,
      '',
    ].join('\n'),
  );
  rig = await createRig('mtls', { temporal: { profile: 'backup', configFile: toml } });
});
after(async () => {
  await rig?.close();
  proxy?.server.close();
});

test('with the client certificate: a worker polls and a backup runs through the TLS proxy', async () => {
  await buildSampleTree(rig.source);
  await rig.startWorker();
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr + run.stdout);
  assert.match(run.stdout, /SUCCESS: demo-host on srv-mtls-\S+/);
  assert.deepEqual(await describeTree(join(await rig.copyPath(), rig.source)), await describeTree(rig.source));
  assert.equal((await rig.snapshots()).length, 1);
  // Both the worker and the CLI came through the proxy, presenting the client certificate.
  assert.ok(proxy.clients.length >= 2, `connections through the proxy: ${proxy.clients.length}`);
  assert.ok(
    proxy.clients.every((cn) => cn === 'backup-1.tidemark.test'),
    proxy.clients.join(', '),
  );

  const schedules = await rig.cli(['schedules', '--json']);
  assert.equal(schedules.exitCode, 0, schedules.stderr);
  assert.ok(Array.isArray(JSON.parse(schedules.stdout)), schedules.stdout);
});

test('without the client certificate: the CLI and the worker exit 4 and name the settings to give', async () => {
  // The same server, CA and name, given in the inventory itself this time, minus the client certificate.
  const inventory = parse(readFileSync(rig.inventoryPath, 'utf8'));
  inventory.temporal = { address: `127.0.0.1:${proxy.port}`, tls: { serverName, serverCaCertFile: certs.ca } };
  const noCertificate = join(rig.dir, 'no-client-cert.yaml');
  writeFileSync(noCertificate, stringify(inventory));
  const refusedBefore = proxy.refused.length;
  const expected = new RegExp(
    `^tidemark: cannot connect to Temporal at 127\\.0\\.0\\.1:${proxy.port} \\(temporal\\.address\\), TLS \\(server CA from temporal\\.tls\\.serverCaCertFile, no client certificate, server name ${serverName.replace(/\./g, '\\.')}\\): .+; if the server requires a client certificate \\(mutual TLS\\), give one: temporal\\.tls\\.clientCertFile and clientKeyFile`,
  );

  const cli = await execa(process.execPath, [cliPath, '--config', noCertificate, 'schedules', '--json'], {
    reject: false,
    timeout: 60_000,
  });
  assert.equal(cli.exitCode, ExitCode.unavailable, cli.stderr);
  assert.match(cli.stderr, expected);
  assert.equal(cli.stdout, '');

  const worker = spawn(process.execPath, [cliPath, '--config', noCertificate, 'worker', '--server', rig.server], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  worker.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => worker.kill('SIGKILL'), 60_000);
  const exitCode = await new Promise<number | null>((resolve) => worker.once('exit', resolve));
  clearTimeout(timer);
  assert.equal(exitCode, ExitCode.unavailable, stderr);
  assert.match(stderr, expected);
  assert.doesNotMatch(stdout, /polling/);
  // The proxy refused handshakes (no certificate), so the refusal is the TLS layer's, not a wrong port.
  assert.ok(proxy.refused.length > refusedBefore, 'the proxy saw refused TLS handshakes');
});
