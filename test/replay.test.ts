// Every recorded history in test/histories/ replays against today's workflow code: a workflow change that
// would break runs started before it (a missing patched(), a reordered step) fails here, not in production.
// Record new ones with `TIDEMARK_RECORD_HISTORIES=DIR npm test [files]` (test/helpers/record-histories.ts).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { workflowBundlePath } from '../worker/bundle.js';
import * as workflows from '../workflows/index.js';

const historiesDir = fileURLToPath(new URL('../../test/histories/', import.meta.url));
const files = readdirSync(historiesDir)
  .filter((name) => name.endsWith('.json'))
  .sort();

test('every workflow type the worker registers has recorded histories, and every history a registered type', () => {
  const registered = Object.entries(workflows)
    .filter(([, value]) => typeof value === 'function')
    .map(([name]) => name)
    .sort();
  const recorded = [...new Set(files.map((name) => name.split('-')[0]!))].sort();
  assert.deepEqual(
    registered.filter((type) => !recorded.includes(type)),
    [],
    'workflow types without a recorded history: record them (TIDEMARK_RECORD_HISTORIES, see above)',
  );
  assert.deepEqual(
    recorded.filter((type) => !registered.includes(type)),
    [],
    'histories of a workflow type no longer registered',
  );
});

test(`${files.length} recorded histories replay without a nondeterminism error`, async () => {
  const histories = files.map((name) => ({
    workflowId: name,
    history: historyFromJSON(JSON.parse(readFileSync(join(historiesDir, name), 'utf8'))),
  }));
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: workflowBundlePath } },
    histories,
  )) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.equal(replayed, files.length);
  assert.deepEqual(failures, []);
});

test('a history whose steps differ from the code is caught (the replay check can fail)', async () => {
  const json = JSON.parse(readFileSync(join(historiesDir, 'backupHost-success-retention.json'), 'utf8'));
  const scheduled = json.events.find(
    (event: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }) =>
      event.activityTaskScheduledEventAttributes?.activityType.name === 'planBackup',
  );
  scheduled.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
  await assert.rejects(
    Worker.runReplayHistory({ workflowBundle: { codePath: workflowBundlePath } }, historyFromJSON(json)),
    /nondeterminism|does not match|Activity type/i,
  );
});
