// A guard that holds run after run escalates: with the source emptied, every run is "shrink held" (WARNING, the
// copy kept); the run that makes guards.heldRunsBeforeFailed in a row is reported to monitoring as FAILED (the
// state file's escalation, which the metrics page shows as 2) and `status` says CRITICAL with the reason.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRig, rigPairStatus, rigState, type Rig } from './helpers/rig.js';

let rig: Rig;

before(async () => {
  rig = await createRig('held', { host: { guards: { heldRunsBeforeFailed: 2 } } });
  mkdirSync(join(rig.source, 'data'), { recursive: true });
  for (let index = 0; index < 300; index++) writeFileSync(join(rig.source, 'data', `${index}.txt`), `${index}\n`);
  await rig.startWorker();
});
after(() => rig.close());

const pairStatus = () => rigPairStatus(rig);

function stateEntry() {
  const state = rigState(rig);
  return state.hosts[`${rig.hostName}@${rig.server}`]!;
}

test('the same guard holding two runs in a row (guards.heldRunsBeforeFailed 2) is FAILED to monitoring and CRITICAL in status', async () => {
  const good = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(good.exitCode, 0, good.stdout + good.stderr);

  rmSync(join(rig.source, 'data'), { recursive: true });
  const first = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(first.exitCode, 5, first.stdout + first.stderr);
  assert.match(first.stdout, /shrink held/);
  assert.equal(stateEntry().last.escalation, undefined);
  const once = await pairStatus();
  assert.equal(once.row.verdict, 'WARNING', JSON.stringify(once.row));

  const second = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(second.exitCode, 5, second.stdout + second.stderr);
  assert.match(
    second.stdout,
    /2 runs in a row held back by the same guard, shrink held .*reported to monitoring as FAILED/,
  );
  assert.match(stateEntry().last.escalation ?? '', /^2 runs in a row held back by the same guard, shrink held/);
  assert.equal(stateEntry().settled, 'FAILED', 'monitoring was told FAILED');
  const twice = await pairStatus();
  assert.equal(twice.row.verdict, 'CRITICAL', JSON.stringify(twice.row));
  assert.match(
    twice.row.reasons[0] ?? '',
    /^last run WARNING, reported to monitoring as FAILED: 2 runs in a row held back/,
  );
  assert.equal(twice.exitCode, 2);
});
