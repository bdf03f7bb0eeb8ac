// Acceptance 9: malformed inventories are rejected before anything runs, naming the field and the fix.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { parseInventory } from '../inventory/load.js';
import { testRejections } from './helpers/inventory-rejections.js';
import { resolveHost } from '../inventory/resolve.js';
import { cliPath } from './helpers/rig.js';

const servers = 'servers: { b1: { dataset: data } }\n';
const host = (fields: string) => `${servers}hosts: { vpn: { address: vpn.example.org, ${fields} } }`;

/** [inventory text, the message it must produce (a line of it)] */
const malformed: Array<[string, RegExp]> = [
  [host('port: ssh'), /^hosts\.vpn\.port: expected an integer 1-65535, got "ssh"$/m],
  [host('port: 70000'), /^hosts\.vpn\.port: expected an integer 1-65535, got 70000$/m],
  [host('port: 22.5'), /^hosts\.vpn\.port: expected an integer 1-65535, got 22\.5$/m],
  [host('prot: 22'), /^hosts\.vpn\.prot: unknown key; remove it or check its spelling$/m],
  [`${servers}hosts: { "bad host": { address: vpn } }`, /^hosts\.bad host: expected a host name .*got "bad host"$/m],
  [
    `${servers}hosts: { vpn: { address: "vpn example" } }`,
    /^hosts\.vpn\.address: expected the ssh target, a host name or IP address, got "vpn example"$/m,
  ],
  [`${servers}hosts: { vpn: { port: 22 } }`, /^hosts\.vpn\.address: missing; expected the ssh target/m],
  [host('paths: [etc]'), /^hosts\.vpn\.paths\.0: expected an absolute path starting with "\/", got "etc"$/m],
  [host('paths: ["/srv/../etc"]'), /^hosts\.vpn\.paths\.0: a path may not contain "\.\." components/m],
  [host('paths: []'), /^hosts\.vpn\.paths: list at least one path/m],
  [host('excludes: [""]'), /^hosts\.vpn\.excludes\.0: an exclude pattern may not be empty/m],
  [
    host('servers: [b2]'),
    /^hosts\.vpn\.servers\.0: unknown server; define it under "servers" \(known: b1\), got "b2"$/m,
  ],
  [host('sudo: "yes"'), /^hosts\.vpn\.sudo: expected true or false, got "yes"$/m],
  [host('user: "root user"'), /^hosts\.vpn\.user: expected a user name/m],
  [host('transfer: { ioTimeout: 5 }'), /^hosts\.vpn\.transfer\.ioTimeout: expected a duration such as "30s"/m],
  [
    host('transfer: { retryInterval: "soon" }'),
    /^hosts\.vpn\.transfer\.retryInterval: expected a duration .*got "soon"$/m,
  ],
  [host('transfer: { attempts: 0 }'), /^hosts\.vpn\.transfer\.attempts: expected an integer 1-100, got 0$/m],
  [
    host('transfer: { bandwidthLimit: "fast" }'),
    /^hosts\.vpn\.transfer\.bandwidthLimit: expected a rate such as "500K"/m,
  ],
  [
    'servers: { b1: { dataset: "da ta" } }\nhosts: {}',
    /^servers\.b1\.dataset: expected a ZFS dataset name .*got "da ta"$/m,
  ],
  [
    'servers: { b1: { dataset: "data/../etc" } }\nhosts: {}',
    /^servers\.b1\.dataset: a dataset name may not contain "\." or "\.\." components/m,
  ],
  ['servers: { b1: { dataset: "/data" } }\nhosts: {}', /^servers\.b1\.dataset: expected a ZFS dataset name/m],
  [
    'servers: { b1: { dataset: data, concurrency: 0 } }\nhosts: {}',
    /^servers\.b1\.concurrency: expected an integer 1-64, got 0$/m,
  ],
  ['servers: {}\nhosts: {}', /^servers: define at least one backup server/m],
  ['hosts: {}', /^servers: missing; expected a mapping of backup servers/m],
  [`${servers}hosts: [vpn]`, /^hosts: expected a mapping of hosts/m],
  [
    `${servers}hosts: {}\nssh: { identityFile: "/etc/my key" }`,
    /^ssh\.identityFile: an ssh file path may not contain spaces/m,
  ],
  [`${servers}hosts: {}\ntemporal: { address: "localhost" }`, /^temporal\.address: expected host:port/m],
  [`${servers}hosts: {}\ndefaults: { servers: [nope] }`, /^defaults\.servers\.0: unknown server/m],
  [`${servers}hosts: {}\nhosts: {}`, /^inventory: Map keys must be unique/m],
  [`${servers}hosts: {}\nextra: 1`, /^extra: unknown key/m],
];

testRejections(malformed);

test('a valid inventory resolves defaults, with host settings over `defaults`', () => {
  const inventory = parseInventory(
    `${servers}defaults: { port: 2222, excludes: ["/tmp"] }\nhosts: { vpn: { address: 10.0.0.1, excludes: ["/var/cache/apt"] }, db: { address: "::1", port: 22 } }`,
  );
  const vpn = resolveHost(inventory, 'vpn');
  assert.equal(vpn.port, 2222);
  assert.deepEqual(vpn.excludes, ['/tmp', '/var/cache/apt']);
  assert.deepEqual(vpn.paths, ['/']);
  assert.deepEqual(vpn.servers, ['b1']);
  assert.equal(resolveHost(inventory, 'db').port, 22);
  assert.throws(() => resolveHost(inventory, 'nope'), /--host: "nope" is not in the inventory \(known: vpn, db\)/);
});

test('`tidemark config check` exits 2 on an invalid inventory and 0 with a summary on a valid one', async () => {
  const dir = mkdtempSync('/tmp/tidemark-config-');
  writeFileSync(join(dir, 'bad.yaml'), host('port: ssh'));
  const bad = await execa(process.execPath, [cliPath, '--config', join(dir, 'bad.yaml'), 'config', 'check'], {
    reject: false,
  });
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /hosts\.vpn\.port: expected an integer 1-65535, got "ssh"/);

  writeFileSync(join(dir, 'good.yaml'), host('port: 22'));
  const good = await execa(process.execPath, [cliPath, '--config', join(dir, 'good.yaml'), 'config', 'check'], {
    reject: false,
  });
  assert.equal(good.exitCode, 0, good.stderr);
  // Without `paths` the mount table decides at backup time: say so, not "paths /" (the issue).
  assert.match(
    good.stdout,
    /valid[\s\S]*vpn: root@vpn\.example\.org:22 every local filesystem under \/ \(mount table at backup time\) → b1/,
  );

  const missing = await execa(process.execPath, [cliPath, '--config', join(dir, 'none.yaml'), 'config', 'check'], {
    reject: false,
  });
  assert.equal(missing.exitCode, 2);
  assert.match(missing.stderr, /cannot read inventory .*none\.yaml/);
});

test('a mistyped host name gets a "did you mean" with the nearest known host, a far one does not', () => {
  const inventory = parseInventory(
    'servers: { b1: { dataset: data } }\nhosts: { vpn-gateway: { address: 10.0.0.1 }, mail: { address: 10.0.0.2 } }\n',
  );
  assert.throws(
    () => resolveHost(inventory, 'vpn-gatewya'),
    /--host: "vpn-gatewya" is not in the inventory; did you mean "vpn-gateway"\? \(known: vpn-gateway, mail\)/,
  );
  assert.throws(
    () => resolveHost(inventory, 'database'),
    (error: Error) => !error.message.includes('did you mean'),
  );
});
