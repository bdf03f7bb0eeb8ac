// A worker's log, as a log shipper reads it: stdout is a pipe here, so every line must be one JSON
// object, the Temporal SDK's own lines included, and each run says when it started and how it ended.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { backupWorkflowId } from '../domain/names.js';
import { backupWithHostDown, createRig, type Rig } from './helpers/rig.js';

let rig: Rig;
before(async () => {
  rig = await createRig('logs');
  mkdirSync(rig.source, { recursive: true });
  writeFileSync(join(rig.source, 'file'), 'x'.repeat(4096));
  await rig.startWorker();
});
after(() => rig.close());

type Line = Record<string, unknown>;

function parsedLines(output: string): Line[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Line;
      } catch {
        assert.fail(`a worker log line is not JSON: ${line}`);
      }
    });
}

test('a backup and a failed backup: every worker line is JSON; each run logs its start and its end with host, server and status', async () => {
  const good = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(good.exitCode, 0, good.stderr);
  const failed = await backupWithHostDown(rig);
  assert.equal(failed.exitCode, 1, failed.stdout + failed.stderr);

  const lines = parsedLines(rig.workerOutput());
  for (const line of lines) {
    assert.equal(typeof line.msg, 'string', `no msg: ${JSON.stringify(line)}`);
    assert.ok(
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(String(line.level)),
      `no level name: ${JSON.stringify(line)}`,
    );
    assert.ok(!Number.isNaN(Date.parse(String(line.time))), `no time: ${JSON.stringify(line)}`);
  }
  assert.ok(
    lines.some((line) => String(line.msg).includes('polling') && line.server === rig.server),
    'the polling line',
  );

  const ours = (event: string) =>
    lines.filter((line) => line.event === event && line.host === rig.hostName && line.server === rig.server);
  const starts = ours('run-start');
  assert.ok(starts.length >= 2, `a start line per run: ${JSON.stringify(starts)}`);
  for (const start of starts) {
    assert.equal(start.status, 'STARTED');
    assert.equal(start.workflowId, backupWorkflowId(rig.hostName, rig.server));
  }

  const ends = ours('run-end');
  assert.deepEqual(
    ends.map((end) => end.status),
    ['SUCCESS', 'FAILED'],
  );
  const [success, failure] = ends as [Line, Line];
  assert.ok(Number(success.bytesTransferred) >= 4096, `bytes of the good run: ${JSON.stringify(success)}`);
  assert.equal(typeof success.durationMs, 'number');
  assert.deepEqual(
    (await rig.snapshots()).map((name) => `${rig.dataset}@${name}`),
    [success.snapshot],
    'the end line names the snapshot the run took',
  );
  assert.equal(failure.snapshot, null);
  assert.match(String(failure.msg), /ended FAILED: .*Connection refused/);

  // The SDK's own warning about the failing step is a line of the same log, its error as fields.
  const sdkFailure = lines.find((line) => line.source === 'temporal' && line.msg === 'Activity failed');
  assert.ok(sdkFailure, 'the SDK logged the failed activity through the same logger');
  const error = sdkFailure.error as Record<string, unknown>;
  assert.match(String(error.message), /Connection refused/);
  assert.match(String(error.stack), /\n\s+at /);
});
