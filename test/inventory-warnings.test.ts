// A deprecated inventory field works but is warned about: on stderr for CLI verbs, once in `config check`'s
// output, and as a JSON line in the worker's log (whose output must stay JSON). No services needed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { cliPath } from './helpers/rig.js';

const dir = mkdtempSync('/tmp/tidemark-inventory-warnings-');
const path = join(dir, 'tidemark.yaml');
writeFileSync(
  path,
  'servers: { b1: { dataset: data } }\nhosts: { vpn: { address: vpn.example.org, retention: { timeZone: Asia/Tokyo } } }\n',
);
const deprecated = /hosts\.vpn\.retention\.timeZone is deprecated: write hosts\.vpn\.timezone: Asia\/Tokyo instead/;

test('a CLI verb warns on stderr, config check once in its output', async () => {
  const hosts = await execa(process.execPath, [cliPath, '--config', path, 'hosts'], { reject: false });
  assert.equal(hosts.exitCode, 0, hosts.stderr);
  assert.match(hosts.stderr, new RegExp(`^tidemark: WARNING: ${deprecated.source}`, 'm'));
  assert.match(hosts.stderr, /hosts\.vpn: retention counts days in Asia\/Tokyo .* schedule runs in UTC/);

  const check = await execa(process.execPath, [cliPath, '--config', path, 'config', 'check'], { reject: false });
  assert.equal(check.exitCode, 0, check.stderr);
  assert.equal(check.stderr, '', 'printed once, in the output');
  assert.match(check.stdout, new RegExp(`^WARNING: ${deprecated.source}`, 'm'));
  assert.match(check.stdout, /retention \(zone Asia\/Tokyo\)/);
});

test("the worker's warning is a JSON log line, and its output stays JSON", async () => {
  const worker = await execa(process.execPath, [cliPath, '--config', path, 'worker', '--server', 'b1'], {
    reject: false,
    timeout: 60_000,
    // Nothing listens there: the worker stops with exit 4 after loading the inventory.
    env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
  });
  const lines = `${worker.stdout}\n${worker.stderr}`.split('\n').filter((line) => line.trim() !== '');
  const warning = lines.find((line) => line.includes('inventory-warning'));
  assert.ok(warning, lines.join('\n'));
  const parsed = JSON.parse(warning) as { level: unknown; msg: string };
  assert.match(parsed.msg, deprecated);
  assert.ok(!lines.some((line) => line.startsWith('tidemark: WARNING')), lines.join('\n'));
});
