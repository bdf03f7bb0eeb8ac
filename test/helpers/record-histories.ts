// Saves the history of every closed workflow on the suite's dev server, for the replay suite
// (test/replay.test.ts). Run as `TIDEMARK_RECORD_HISTORIES=DIR npm test [files]`, then keep the histories
// that cover a path not yet in test/histories/. The CLI writes the JSON form the SDK's replayer reads.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { temporalCli } from '../../devenv/temporal-dev.js';

export async function recordHistories(address: string, dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    let count = 0;
    for await (const execution of client.workflow.list({ query: 'ExecutionStatus != "Running"' })) {
      const shown = await execa(temporalCli(), [
        'workflow',
        'show',
        '--address',
        address,
        '--workflow-id',
        execution.workflowId,
        '--run-id',
        execution.runId,
        '--output',
        'json',
      ]);
      await writeFile(join(dir, `${execution.type}-${execution.status.name}-${execution.runId}.json`), shown.stdout);
      count += 1;
    }
    return count;
  } finally {
    await connection.close();
  }
}
