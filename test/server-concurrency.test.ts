// A server's concurrency holds across all its workers: two real workers started with one server name
// (concurrency 1, so each process would take one transfer) and three backups started at once never run more
// than one rsync into the server's datasets at a time; every backup still completes. The count is sampled from
// the process table (each transfer's rsync leads its own process group).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { zfs } from '../pool/zfs.js';
import { editInventory } from './helpers/inventory-edit.js';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
const hosts = ['demo-host', 'demo-host-b', 'demo-host-c'];

before(async () => {
  rig = await createRig('slots', {
    concurrency: 1,
    host: {
      // About 3 s a copy: long enough for the transfers to overlap if nothing held them apart.
      transfer: { heartbeatTimeout: '10s', retryInterval: '1s', attempts: 3, ioTimeout: '30s', bandwidthLimit: '1M' },
    },
  });
  mkdirSync(rig.source, { recursive: true });
  writeFileSync(join(rig.source, 'payload.bin'), randomBytes(3 * 1024 * 1024));
  editInventory(rig, (inventory) => {
    for (const name of hosts.slice(1)) inventory.hosts[name] = { ...inventory.hosts[rig.hostName] };
  });
  await rig.startWorker();
  await rig.startWorker();
});
after(() => rig.close());

/** Process groups of rsync processes writing under `root` (a transfer's receiver and generator share one). */
async function transfersInto(root: string): Promise<number> {
  const { stdout } = await execa('ps', ['-eo', 'pgid=,args=']);
  const groups = new Set<string>();
  for (const line of stdout.split('\n')) {
    const [pgid, ...args] = line.trim().split(/\s+/);
    if (args[0] === 'rsync' && args.at(-1)?.startsWith(`${root}/`)) groups.add(pgid!);
  }
  return groups.size;
}

test('two workers of one server with concurrency 1 never run two transfers at once', async () => {
  const serverDataset = rig.dataset.slice(0, rig.dataset.lastIndexOf('/'));
  // The server's dataset is made by the first run's dataset step: its mountpoint is read once it exists.
  let root: string | undefined;
  const mountpoint = async () =>
    (root ??= await zfs(['get', '-H', '-o', 'value', 'mountpoint', serverDataset]).then(
      (output) => output.trim(),
      () => undefined,
    ));
  let most = 0;
  let samples = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const into = await mountpoint();
      const now = into ? await transfersInto(into) : 0;
      most = Math.max(most, now);
      if (now > 0) samples++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const runs = await Promise.all(
    hosts.map((host) => rig.cli(['start-backup', '--host', host, '--wait'], { timeoutMs: 300_000 })),
  );
  sampling = false;
  await sampler;
  for (const run of runs) assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  assert.ok(samples > 0, 'the sampler saw the transfers');
  assert.equal(most, 1, `at most servers.<name>.concurrency (1) transfers at once, saw ${most}`);
});
