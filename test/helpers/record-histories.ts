// Saves the history of every closed workflow on the suite's dev server, for the replay suite
// (test/replay.test.ts). Run as `TIDEMARK_RECORD_HISTORIES=DIR npm test`, then keep the histories that
// cover a path not yet in test/histories/ (scripts/pick-histories.ts names each by what it shows).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

export async function recordHistories(address: string, dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    let count = 0;
    for await (const execution of client.workflow.list({ query: 'ExecutionStatus != "Running"' })) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      const name = `${execution.type}-${execution.status.name}-${execution.runId}.json`;
      await writeFile(join(dir, name), historyToJSON(history));
      count += 1;
    }
    return count;
  } finally {
    await connection.close();
  }
}
