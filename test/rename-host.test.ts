// `tidemark rename-host OLD NEW`: the dataset moves with its snapshots, the owner follows, the old name says
// where it went, a restore from a pre-rename snapshot works, and a rename onto an existing dataset is refused.
// Real sshd, rsync, zfs-fuse and Temporal.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { zfs } from '../pool/zfs.js';
import { editInventory } from './helpers/inventory-edit.js';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
const renamed = 'demo-renamed';
const file = () => join(rig.source, 'etc/app.conf');

before(async () => {
  rig = await createRig('renamehost');
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  await rig.startWorker();
});
after(() => rig.close());

test('a renamed host keeps its snapshots; a pre-rename snapshot restores; the old name says where it went', async () => {
  writeFileSync(file(), 'v1\n');
  const first = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(first.exitCode, 0, first.stdout + first.stderr);
  const before = await rig.snapshots();
  assert.equal(before.length, 1);

  // The operator renames the host in the inventory, then its backups.
  editInventory(rig, (inventory) => {
    inventory.hosts[renamed] = inventory.hosts[rig.hostName];
    delete inventory.hosts[rig.hostName];
  });
  const rename = await rig.cli(['rename-host', rig.hostName, renamed]);
  assert.equal(rename.exitCode, 0, rename.stdout + rename.stderr);
  const dataset = rig.dataset.replace(/[^/]+$/, renamed);
  assert.equal((await zfs(['get', '-H', '-o', 'value', 'tidemark:host', dataset])).trim(), renamed);
  const moved = await zfs(['list', '-H', '-o', 'name', '-t', 'snapshot', '-r', '-d', '1', dataset]);
  assert.deepEqual(
    moved
      .trim()
      .split('\n')
      .map((name) => name.split('@')[1]),
    before,
    'the snapshots came along',
  );

  const old = await rig.cli(['snapshots', '--host', rig.hostName]);
  assert.equal(old.exitCode, 2, old.stdout + old.stderr);
  assert.match(old.stderr, new RegExp(`${rig.hostName} was renamed to ${renamed}.*--host ${renamed}`));

  writeFileSync(file(), 'v22\n');
  const second = await rig.cli(['start-backup', '--host', renamed, '--wait']);
  assert.equal(second.exitCode, 0, second.stdout + second.stderr);

  const out = await mkdtemp(join(rig.dir, 'out-'));
  const restore = await rig.cli(['restore', '--host', renamed, '--snapshot', before[0]!, '--to', out, '--wait']);
  assert.equal(restore.exitCode, 0, restore.stdout + restore.stderr);
  assert.equal(readFileSync(join(out, file()), 'utf8'), 'v1\n');

  // NEW taken: refused, nothing moved.
  await zfs(['create', rig.dataset.replace(/[^/]+$/, 'taken')]);
  const refused = await rig.cli(['rename-host', renamed, 'taken']);
  assert.equal(refused.exitCode, 2, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /NEW: .*taken exists already/);
  assert.equal((await zfs(['get', '-H', '-o', 'value', 'tidemark:host', dataset])).trim(), renamed);
});
