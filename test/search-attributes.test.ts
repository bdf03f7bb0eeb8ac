// Runs after every other file (afterAll in test/tiers.ts): every backupHost run the suite finished, whatever its path
// (success, hook failure, veto, cancel, failure at planning, runs started by hand), carries Tidemark's
// four search attributes, so the Temporal UI and `tidemark status` find it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { tidemarkSearchAttributes } from '../domain/search-attributes.js';
import { testServices } from './helpers/rig.js';

test('every finished backupHost run of the suite carries TidemarkHost, TidemarkServer, TidemarkStatus and TidemarkBytes', async (t) => {
  const connection = await Connection.connect({ address: testServices().temporal });
  try {
    const client = new Client({ connection });
    // Terminated runs (a test tearing down) never reach their last step; running ones have not yet.
    const query = "WorkflowType = 'backupHost' AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Terminated'";
    const missing: string[] = [];
    let runs = 0;
    for await (const execution of client.workflow.list({ query })) {
      runs += 1;
      const absent = tidemarkSearchAttributes
        .filter((key) => execution.typedSearchAttributes.get(key) === undefined)
        .map((key) => key.name);
      if (absent.length > 0)
        missing.push(`${execution.workflowId} ${execution.runId} (${execution.status.name}): ${absent.join(', ')}`);
    }
    if (runs === 0) return t.skip('no backup ran in this selection of test files');
    assert.deepEqual(missing, [], `${missing.length} of ${runs} runs lack attributes`);
  } finally {
    await connection.close();
  }
});
