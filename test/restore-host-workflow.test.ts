// restoreHost's own logic with its activities stubbed (the SDK's test environment on the suite's dev
// server): the steps run in order, the snapshot view is closed whatever happens, and a failure names the
// step it happened in. The real steps against ZFS, sshd and rsync are in restore.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { serverTaskQueue, transferTaskQueue } from '../domain/names.js';
import type { RestoreCopyResult, RestoreInput, RestorePlan, RestoreProgress } from '../domain/restore.js';
import { workflowBundlePath } from '../worker/bundle.js';

let env: TestWorkflowEnvironment;

before(async () => {
  const address = process.env.TIDEMARK_TEST_TEMPORAL;
  if (!address) throw new Error('workflow tests need the dev server of `npm test` (test/run-suite.ts)');
  // The workers' state changes are noise here; failures still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address });
});
after(async () => {
  await env?.teardown();
});

interface Stubs {
  /** The activity calls in the order they started. */
  calls: string[];
  restoreFiles(plan: RestorePlan, view: string): Promise<RestoreCopyResult>;
}

function planFor(input: RestoreInput): RestorePlan {
  return {
    host: input.host,
    server: input.server,
    dataset: `tank/${input.host}`,
    snapshot: 'tidemark-2026-12-01T00-00-00Z',
    paths: input.paths,
    target: { kind: 'local', dir: '/srv/restore/' },
    dryRun: false,
    ioTimeoutSeconds: 60,
    heartbeatTimeoutMs: 2_000,
  };
}

/** Runs one restoreHost to its end on workers for `server` whose activities record their calls. */
async function runRestore(stubs: Stubs, whileRunning?: (workflowId: string) => Promise<void>) {
  const server = `wf-${randomUUID().slice(0, 8)}`;
  const input: RestoreInput = { host: 'web1', server, paths: ['/etc'], to: { kind: 'local', dir: '/srv/restore' } };
  const serverWorker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: serverTaskQueue(server),
    workflowBundle: { codePath: workflowBundlePath },
    activities: {
      planRestore: async (given: RestoreInput) => (stubs.calls.push('plan'), planFor(given)),
      openRestoreSnapshot: async () => (stubs.calls.push('open'), '/tank/.restore-view'),
      closeRestoreSnapshot: async () => void stubs.calls.push('close'),
    },
  });
  const transferWorker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: transferTaskQueue(server),
    activities: {
      restoreFiles: async (plan: RestorePlan, view: string) => (
        stubs.calls.push('copy'),
        stubs.restoreFiles(plan, view)
      ),
    },
  });
  const workflowId = `restore-wf-${server}`;
  const outcome = transferWorker.runUntil(
    serverWorker.runUntil(async () => {
      const handle = await env.client.workflow.start('restoreHost', {
        args: [input],
        taskQueue: serverTaskQueue(server),
        workflowId,
      });
      await whileRunning?.(workflowId);
      const result = await handle.result().then(
        (summary) => ({ summary, error: undefined }),
        (error: unknown) => ({ summary: undefined, error }),
      );
      const progress = await handle.query<RestoreProgress>('restoreProgress');
      return { ...result, progress };
    }),
  );
  return outcome;
}

test('the steps run in order plan, open, copy, close, and the summary names what was restored where', async () => {
  const stubs: Stubs = {
    calls: [],
    restoreFiles: async () => ({ filesTransferred: 3, bytesTransferred: 4096, durationMs: 10 }),
  };
  const { summary, error, progress } = await runRestore(stubs);
  assert.equal(error, undefined);
  assert.deepEqual(stubs.calls, ['plan', 'open', 'copy', 'close']);
  assert.equal(progress.phase, 'done');
  assert.equal(summary?.target, `${summary?.server}:/srv/restore/`);
  assert.match(
    summary?.message ?? '',
    /^restored \/etc from tank\/web1@tidemark-2026-12-01T00-00-00Z to .*: 3 files, 4096 bytes/,
  );
});

test('a copy that fails still closes the snapshot view, and the failure names the step and the cause', async () => {
  const stubs: Stubs = {
    calls: [],
    restoreFiles: async () => {
      throw ApplicationFailure.nonRetryable('rsync exited 23 (partial transfer)', 'RsyncFailed');
    },
  };
  const { error, progress } = await runRestore(stubs);
  assert.ok(error instanceof WorkflowFailedError, `expected a failed run, got ${String(error)}`);
  const cause = error.cause as ApplicationFailure;
  assert.equal(cause.type, 'RestoreFailed');
  assert.match(
    cause.message,
    /restore of web1 from wf-\w+ failed during copying: rsync exited 23 \(partial transfer\)/,
  );
  assert.deepEqual(stubs.calls, ['plan', 'open', 'copy', 'close']);
  assert.equal(progress.phase, 'failed');
});

test('a cancelled restore waits for the copy to stop before it closes the snapshot view', async () => {
  let copyStopped = false;
  let copying!: () => void;
  const copyStarted = new Promise<void>((resolve) => (copying = resolve));
  const stubs: Stubs = {
    calls: [],
    restoreFiles: async () => {
      copying();
      // Heartbeats carry the cancellation to the activity; it ends only once it has seen it.
      for (;;) {
        Context.current().heartbeat();
        try {
          await Context.current().sleep(200);
        } catch (cancelled) {
          copyStopped = true;
          stubs.calls.push('copy stopped');
          throw cancelled;
        }
      }
    },
  };
  const { error } = await runRestore(stubs, async (workflowId) => {
    await copyStarted;
    await env.client.workflow.getHandle(workflowId).cancel();
  });
  assert.ok(error instanceof WorkflowFailedError, `expected a cancelled run, got ${String(error)}`);
  assert.equal(error.cause?.name, 'CancelledFailure');
  assert.ok(copyStopped, 'the copy saw the cancellation');
  assert.deepEqual(stubs.calls, ['plan', 'open', 'copy', 'copy stopped', 'close']);
});
