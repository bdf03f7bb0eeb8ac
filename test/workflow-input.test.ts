// A workflow input names a host and a server, never their settings: a backupHost started by hand with
// extra fields, or for a host in no inventory, plans nothing and fails saying why.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { controlTaskQueue } from '../domain/names.js';
import { activityRecord } from './helpers/history.js';
import { createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
before(async () => {
  rig = await createRig('input');
  mkdirSync(rig.source, { recursive: true });
  writeFileSync(join(rig.source, 'keep-me'), 'data\n');
  await rig.startWorker();
});
after(() => rig.close());

async function failureOf(workflowId: string, input: Record<string, unknown>): Promise<string> {
  const handle = await rig.client.workflow.start('backupHost', {
    taskQueue: controlTaskQueue,
    workflowId,
    args: [input],
  });
  const error = await handle.result().then(
    () => assert.fail('the run must fail'),
    (failure: unknown) => failure,
  );
  assert.ok(error instanceof WorkflowFailedError);
  return error.cause?.message ?? '';
}

test('extra input fields (NetBox-like settings) are refused before anything is planned', async () => {
  const id = `hand-started-${process.pid}`;
  const message = await failureOf(id, {
    host: rig.hostName,
    server: rig.server,
    sourced: { excludes: ['*'] },
    paths: ['/'],
  });
  assert.match(
    message,
    /failed during planning: backupHost input: unexpected fields "sourced", "paths"; a run carries only host, server, keep, allowShrink/,
  );
  assert.deepEqual((await activityRecord(rig.client, id, 'ensureDataset')).attempts, [], 'no step after planning ran');
  assert.deepEqual(await rig.snapshots(), []);
});

test('a host in no inventory, or an Object prototype name, fails in planning naming the host', async () => {
  for (const host of ['nowhere', 'toString', '__proto__']) {
    const message = await failureOf(`unknown-${host}-${process.pid}`, { host, server: rig.server });
    // "__proto__" is not even a host name: the worker refuses the input before looking it up.
    const expected =
      host === '__proto__'
        ? /failed during planning: refused activity input: host must be a name .*got "__proto__"/
        : new RegExp(`failed during planning: --host: "${host}" is not in the inventory`);
    assert.match(message, expected, `${host}: ${message}`);
  }
});
