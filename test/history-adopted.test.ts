// `tidemark history` reads snapshots as retention does: a SOWN (or PlanB) snapshot the server adopts is a
// complete copy, not "foreign"; one it does not adopt stays foreign. Real sshd, rsync, zfs-fuse and Temporal.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { zfs } from '../pool/zfs.js';
import type { HistoryReport } from '../client/browse.js';
import { editInventory } from './helpers/inventory-edit.js';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
before(async () => {
  rig = await createRig('histadopt');
  mkdirSync(join(rig.source, 'etc'), { recursive: true });
  writeFileSync(join(rig.source, 'etc/hostname'), 'demo-host\n');
  await rig.startWorker();
});
after(() => rig.close());

test('history calls an adopted SOWN snapshot complete, a PlanB one not adopted foreign', async () => {
  const run = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  // What SOWN and PlanB left on the dataset before the switch-over (made here on top of Tidemark's copy).
  await zfs(['snapshot', `${rig.dataset}@backup-daily-2025-06-30`]);
  await zfs(['snapshot', `${rig.dataset}@planb-20251231T0300Z`]);
  editInventory(rig, (inventory) => (inventory.servers[rig.server].adopt = { sown: true }));

  const history = await rig.cli(['history', '--host', rig.hostName, join(rig.source, 'etc/hostname'), '--json']);
  assert.equal(history.exitCode, 0, history.stderr);
  const report = JSON.parse(history.stdout) as HistoryReport;
  const labels = Object.fromEntries(report.snapshots.map((entry) => [entry.snapshot, entry.label]));
  assert.equal(labels['backup-daily-2025-06-30'], 'complete', history.stdout);
  assert.equal(labels['planb-20251231T0300Z'], 'foreign', history.stdout);
  const sown = report.snapshots.find((entry) => entry.snapshot === 'backup-daily-2025-06-30')!;
  assert.equal(sown.takenAt.slice(0, 10), '2025-06-30', 'taken on the day its name gives, as retention reads it');

  const text = await rig.cli(['history', '--host', rig.hostName, join(rig.source, 'etc/hostname')]);
  assert.match(text.stdout, /^\*? +backup-daily-2025-06-30 +complete +file/m);
});
