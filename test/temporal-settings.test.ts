// Where the CLI and the worker find Temporal: temporal.toml profiles, the inventory's `temporal:` section
// and the TEMPORAL_* variables, layered in that order; every error names the setting to fix.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectionOptions, isLoopbackAddress } from '../temporal/connection.js';
import { parseInventory } from '../inventory/load.js';
import { describeConnection, resolveTemporal } from '../temporal/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'tidemark-temporal-settings-'));
/** Secret files are private (0600): the connection refuses keys that group or others can read. */
const file = (name: string, text: string, mode = 0o600) => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  return path;
};
const pem = (label: string) => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
const caFile = file('ca.pem', pem('CERTIFICATE'));
const certFile = file('client.pem', pem('CERTIFICATE'));
const keyFile = file('client.key', pem('PRIVATE KEY'));
const tomlFile = file(
  'temporal.toml',
  `[profile.default]
address = "plain.example.org:7233"

[profile.prod]
address = "temporal.example.org:7233"
namespace = "backups"
[profile.prod.tls]
server_ca_cert_path = "${caFile}"
client_cert_path = "${certFile}"
client_key_path = "${keyFile}"
server_name = "temporal.internal"
`,
);
/** No temporal.toml at the default place: HOME is an empty folder. */
const emptyHome = mkdtempSync(join(tmpdir(), 'tidemark-home-'));
const inventory = (temporal: string) =>
  parseInventory(`temporal: ${temporal}\nservers: { b1: { dataset: data } }\nhosts: {}\n`);

test('without a file or variables: the local dev server, plain', () => {
  const settings = resolveTemporal(inventory('{}'), { HOME: emptyHome });
  assert.equal(settings.address, '127.0.0.1:7233');
  assert.equal(settings.namespace, 'default');
  assert.equal(settings.tls, undefined);
  assert.equal(describeConnection(settings), '127.0.0.1:7233 (default), without TLS');
});

test('a profile named in the inventory gives address, namespace and mutual TLS, each setting named', () => {
  const settings = resolveTemporal(inventory(`{ profile: prod, configFile: "${tomlFile}" }`), { HOME: emptyHome });
  assert.equal(settings.address, 'temporal.example.org:7233');
  assert.equal(settings.namespace, 'backups');
  assert.equal(settings.uiUrl, 'http://temporal.example.org:8233');
  assert.deepEqual(settings.tls?.clientKey, {
    value: { path: keyFile },
    setting: `profile.prod.tls.client_key_path in ${tomlFile}`,
  });
  assert.equal(settings.tls?.serverName?.value, 'temporal.internal');
  const options = connectionOptions(settings);
  assert.equal(options.tls?.serverNameOverride, 'temporal.internal');
  assert.equal(Buffer.from(options.tls!.clientCertPair!.key).toString(), pem('PRIVATE KEY'));
  assert.equal(Buffer.from(options.tls!.serverRootCACertificate!).toString(), pem('CERTIFICATE'));
});

test('the inventory overrides the profile, the environment overrides both', () => {
  const env = {
    HOME: emptyHome,
    TEMPORAL_CONFIG_FILE: tomlFile,
    TEMPORAL_PROFILE: 'prod',
    TEMPORAL_NAMESPACE: 'from-env',
  };
  const settings = resolveTemporal(
    inventory(
      '{ address: "inventory.example.org:7233", namespace: from-inventory, tls: { serverName: other.internal } }',
    ),
    env,
  );
  assert.equal(settings.address, 'inventory.example.org:7233');
  assert.equal(settings.addressSetting, 'temporal.address');
  assert.equal(settings.namespace, 'from-env');
  assert.equal(settings.tls?.serverName?.setting, 'temporal.tls.serverName');
  // The profile's certificates stay: layers override per setting, not wholesale.
  assert.equal(settings.tls?.clientCert?.setting, `profile.prod.tls.client_cert_path in ${tomlFile}`);
  const fromEnv = resolveTemporal(inventory('{ address: "inventory.example.org:7233" }'), {
    ...env,
    TEMPORAL_ADDRESS: 'env.example.org:7233',
  });
  assert.equal(fromEnv.address, 'env.example.org:7233');
  assert.equal(fromEnv.addressSetting, 'TEMPORAL_ADDRESS');
});

test('the "default" profile is used when present and none is named', () => {
  const settings = resolveTemporal(inventory('{}'), { HOME: emptyHome, TEMPORAL_CONFIG_FILE: tomlFile });
  assert.equal(settings.address, 'plain.example.org:7233');
  assert.equal(settings.tls, undefined);
});

test("tls: false in the inventory turns off the profile's TLS", () => {
  const settings = resolveTemporal(inventory(`{ profile: prod, configFile: "${tomlFile}", tls: false }`), {
    HOME: emptyHome,
  });
  assert.equal(settings.tls, undefined);
  // A plain connection to a non-loopback address is then refused (test below); on loopback it is plain.
  assert.throws(() => connectionOptions(settings), /is not on loopback and the connection is not authenticated/);
  assert.equal(connectionOptions({ ...settings, address: '127.0.0.1:7233' }).tls, undefined);
});

test('TLS and a client certificate from the standard variables alone', () => {
  const settings = resolveTemporal(inventory('{}'), {
    HOME: emptyHome,
    TEMPORAL_ADDRESS: 'tls.example.org:7233',
    TEMPORAL_TLS: 'true',
    TEMPORAL_TLS_CLIENT_CERT_PATH: certFile,
    TEMPORAL_TLS_CLIENT_KEY_PATH: keyFile,
  });
  assert.equal(settings.tls?.clientCert?.setting, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
  assert.match(
    describeConnection(settings),
    /^tls\.example\.org:7233 \(TEMPORAL_ADDRESS\), TLS \(the system's trusted CAs, client certificate from TEMPORAL_TLS_CLIENT_CERT_PATH\)$/,
  );
  assert.ok(connectionOptions(settings).tls?.clientCertPair);
});

test('an API key file turns TLS on and is read trimmed; an empty one is refused by name', () => {
  const keyPath = file('api-key', 'secret-key\n');
  const settings = resolveTemporal(inventory(`{ address: "ns.acct.tmprl.cloud:7233", apiKeyFile: "${keyPath}" }`), {
    HOME: emptyHome,
  });
  assert.equal(settings.tls?.enabledBy, 'temporal.apiKeyFile');
  assert.equal(connectionOptions(settings).apiKey, 'secret-key');
  const emptyPath = file('empty-key', '\n');
  const empty = resolveTemporal(inventory(`{ apiKeyFile: "${emptyPath}" }`), { HOME: emptyHome });
  assert.throws(() => connectionOptions(empty), /^TidemarkError: temporal\.apiKeyFile: the API key is empty$/);
});

test('errors name the setting and the fix', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [
      () => resolveTemporal(inventory(`{ profile: staging, configFile: "${tomlFile}" }`), { HOME: emptyHome }),
      /^temporal\.profile: .*temporal\.toml has no profile "staging" \(profiles: default, prod\)/,
    ],
    [
      () => resolveTemporal(inventory('{}'), { HOME: emptyHome, TEMPORAL_PROFILE: 'prod' }),
      /^temporal\.toml: TEMPORAL_PROFILE names profile "prod" but .*\/\.config\/temporalio\/temporal\.toml cannot be read \(ENOENT\)/,
    ],
    [
      () => resolveTemporal(inventory(`{ configFile: "${join(dir, 'missing.toml')}" }`), { HOME: emptyHome }),
      /^temporal\.configFile: .*missing\.toml cannot be read \(ENOENT\)/,
    ],
    [
      () =>
        resolveTemporal(inventory('{}'), { HOME: emptyHome, TEMPORAL_CONFIG_FILE: file('bad.toml', '[profile.x\n') }),
      /bad\.toml: not a valid temporal\.toml/,
    ],
    [
      () => resolveTemporal(inventory('{}'), { HOME: emptyHome, TEMPORAL_TLS_CLIENT_CERT_PATH: certFile }),
      /^TEMPORAL_TLS_CLIENT_CERT_PATH: a client certificate needs its key too/,
    ],
    [
      () =>
        connectionOptions(
          resolveTemporal(inventory(`{ tls: { serverCaCertFile: "${join(dir, 'nope.pem')}" } }`), { HOME: emptyHome }),
        ),
      /^temporal\.tls\.serverCaCertFile: cannot read .*nope\.pem \(ENOENT\)/,
    ],
    [
      () =>
        connectionOptions(
          resolveTemporal(inventory('{}'), {
            HOME: emptyHome,
            TEMPORAL_TLS_CLIENT_CERT_PATH: keyFile,
            TEMPORAL_TLS_CLIENT_KEY_PATH: file('cert-as-key', 'not pem'),
          }),
        ),
      /^TEMPORAL_TLS_CLIENT_KEY_PATH: .*cert-as-key is not PEM/,
    ],
  ];
  for (const [run, message] of cases) {
    assert.throws(run, (error: Error) => {
      assert.equal(error.name, 'TidemarkError');
      assert.match(error.message, message);
      return true;
    });
  }
});

test('the inventory refuses a client certificate without its key, and secrets given inline', () => {
  const refused: Array<[string, RegExp]> = [
    [`{ tls: { clientCertFile: "${certFile}" } }`, /^temporal\.tls: clientCertFile and clientKeyFile go together/m],
    ['{ apiKey: "secret" }', /^temporal\.apiKey: unknown key/m],
    ['{ tls: "yes" }', /^temporal\.tls: expected true, false or a mapping/m],
    [
      '{ tls: { clientKeyFile: "key.pem", clientCertFile: "/c.pem" } }',
      /^temporal\.tls\.clientKeyFile: expected an absolute path/m,
    ],
  ];
  for (const [section, message] of refused) {
    assert.throws(
      () => inventory(section),
      (error: Error) => message.test(error.message),
      section,
    );
  }
});

test('a non-loopback Temporal address without TLS and client authentication is refused, naming the setting', () => {
  for (const address of ['127.0.0.1:7233', '127.3.4.5:7233', 'localhost:7233', '[::1]:7233'])
    assert.ok(isLoopbackAddress(address), address);
  for (const address of ['10.0.0.5:7233', 'temporal.example.org:7233', '[2001:db8::1]:7233', '0.0.0.0:7233'])
    assert.ok(!isLoopbackAddress(address), address);
  const plain = resolveTemporal(inventory('{ address: "temporal.example.org:7233" }'), { HOME: emptyHome });
  assert.throws(
    () => connectionOptions(plain),
    /^TidemarkError: temporal\.address: Temporal at temporal\.example\.org:7233 is not on loopback .*clientCertFile/,
  );
  const serverOnly = resolveTemporal(
    inventory(`{ address: "10.0.0.5:7233", tls: { serverCaCertFile: "${caFile}" } }`),
    { HOME: emptyHome },
  );
  assert.throws(() => connectionOptions(serverOnly), /not authenticated/);
  const fromEnv = resolveTemporal(inventory('{}'), { HOME: emptyHome, TEMPORAL_ADDRESS: '10.0.0.5:7233' });
  assert.throws(() => connectionOptions(fromEnv), /^TidemarkError: TEMPORAL_ADDRESS: /);
  const mtls = resolveTemporal(
    inventory(`{ address: "10.0.0.5:7233", tls: { clientCertFile: "${certFile}", clientKeyFile: "${keyFile}" } }`),
    { HOME: emptyHome },
  );
  assert.ok(connectionOptions(mtls).tls?.clientCertPair);
  assert.equal(connectionOptions(resolveTemporal(inventory('{}'), { HOME: emptyHome })).address, '127.0.0.1:7233');
});

test('the client key and the API key files are refused when group or others can read them', () => {
  const openKey = file('open.key', pem('PRIVATE KEY'), 0o644);
  const mtls = resolveTemporal(
    inventory(`{ address: "10.0.0.5:7233", tls: { clientCertFile: "${certFile}", clientKeyFile: "${openKey}" } }`),
    { HOME: emptyHome },
  );
  assert.throws(
    () => connectionOptions(mtls),
    /^TidemarkError: temporal\.tls\.clientKeyFile: .*open\.key is open to group or others \(mode 644\); run: chmod 600/,
  );
  const openApiKey = file('open-api-key', 'secret\n', 0o640);
  const api = resolveTemporal(inventory(`{ address: "ns.acct.tmprl.cloud:7233", apiKeyFile: "${openApiKey}" }`), {
    HOME: emptyHome,
  });
  assert.throws(() => connectionOptions(api), /temporal\.apiKeyFile: .*open-api-key is open to group or others/);
});
