// Acceptance 6: scraping the worker's metrics endpoint (servers.<name>.metrics) after a run shows the
// Tidemark gauges for that host (and the process, Node.js and Temporal SDK metrics on the same page); a
// failed run turns tidemark_last_status to 2 and leaves the last success time alone. The whole page
// passes Prometheus' own `promtool check metrics`.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { request } from 'undici';
import { freePort } from '../worker/free-port.js';
import { createRig, type Rig } from './helpers/rig.js';
import { editInventory } from './helpers/inventory-edit.js';

let rig: Rig;
let metricsUrl: string;

before(async () => {
  rig = await createRig('metrics');
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  writeFileSync(join(rig.source, 'data.bin'), Buffer.alloc(300_000, 7));
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  editInventory(rig, (inventory) => {
    inventory.servers[rig.server].metrics = `127.0.0.1:${port}`;
  });
  await rig.startWorker();
});
after(() => rig.close());

async function scrape(): Promise<{ text: string; value: (name: string) => number | undefined }> {
  const response = await request(metricsUrl);
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const text = await response.body.text();
  const value = (name: string) => {
    const line = text
      .split('\n')
      .find((candidate) => candidate.startsWith(`${name}{host="demo-host",server="${rig.server}"} `));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  return { text, value };
}

test('before any run: the endpoint answers, with the Temporal SDK metrics and no host yet', async () => {
  const { text, value } = await scrape();
  assert.match(text, /^# TYPE tidemark_last_status gauge$/m);
  assert.match(text, /^temporal_\w+/m, 'Temporal SDK metrics on the same page');
  assert.equal(value('tidemark_last_status'), undefined);
});

let lastSuccess: number | undefined;

test('after a good run: status 0, last success now, bytes, files, duration, one snapshot, dataset size', async () => {
  const startedAt = Date.now() / 1000;
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stderr);
  const { value } = await scrape();
  assert.equal(value('tidemark_last_status'), 0);
  lastSuccess = value('tidemark_last_success_timestamp_seconds');
  assert.ok(
    lastSuccess !== undefined && lastSuccess >= startedAt - 1 && lastSuccess <= Date.now() / 1000 + 1,
    `last success ${lastSuccess}`,
  );
  assert.ok((value('tidemark_transferred_bytes') ?? 0) >= 300_000);
  assert.ok((value('tidemark_transferred_files') ?? 0) >= 2);
  assert.ok((value('tidemark_duration_seconds') ?? 0) > 0);
  assert.equal(value('tidemark_snapshots'), 1);
  assert.ok((value('tidemark_dataset_used_bytes') ?? 0) > 0);
});

test('after a failed run: status 2, last success unchanged, snapshots unchanged', async () => {
  await rig.host.stop();
  try {
    const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
    assert.equal(run.exitCode, 1);
  } finally {
    await rig.host.start();
  }
  const { value } = await scrape();
  assert.equal(value('tidemark_last_status'), 2);
  assert.equal(value('tidemark_last_success_timestamp_seconds'), lastSuccess);
  assert.equal(value('tidemark_transferred_bytes'), 0);
  assert.equal(value('tidemark_snapshots'), 1);
});

/** `promtool check metrics` on a page: its exit code and what it said (lint problems, one a line). */
async function promtool(page: string): Promise<{ exitCode: number; output: string }> {
  const result = await execa('promtool', ['check', 'metrics'], { input: page, reject: false });
  if (result.failed && result.exitCode === undefined)
    throw new Error(
      `promtool could not run (${result.shortMessage}); install Debian's prometheus package (scripts/setup.sh --tests does)`,
    );
  return { exitCode: result.exitCode ?? -1, output: `${result.stdout}${result.stderr}` };
}

test('the page carries process_ and nodejs_ metrics beside tidemark_ and temporal_ ones, and promtool finds no problem', async () => {
  const { text } = await scrape();
  for (const family of [
    'tidemark_last_status',
    'tidemark_snapshots',
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds',
    'nodejs_heap_size_used_bytes',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${family} `, 'm'), `${family} on the page`);
  }
  assert.doesNotMatch(text, /unavailable/, 'the SDK metrics were fetched');

  // The check can fail: the old gauge name is refused.
  const bad = await promtool(
    '# HELP tidemark_snapshot_count Snapshots.\n# TYPE tidemark_snapshot_count gauge\ntidemark_snapshot_count 1\n',
  );
  assert.notEqual(bad.exitCode, 0, bad.output);
  assert.match(bad.output, /tidemark_snapshot_count/);

  const checked = await promtool(text);
  assert.equal(checked.exitCode, 0, `promtool check metrics found problems:\n${checked.output}`);
  assert.match(text, /^temporal_\w+_total(\{[^}]*\})? \d/m, 'Temporal SDK counters, with the _total suffix');
});
