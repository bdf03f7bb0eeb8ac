// A scheduled restore drill (schedule/desired.ts desiredDrillSchedules): on the control queue, its one
// activity on the server's own queue runs `tidemark verify` of the pair and records the result in the state file; the run carries the
// pair and the drill's status as search attributes, which `tidemark status` reads (fleet/drill-status.ts).
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { DrillResult } from '../activities/restore-drill.js';
import { serverTaskQueue } from '../domain/names.js';
import { hostAttribute, serverAttribute, statusAttribute, type RunStatus } from '../domain/search-attributes.js';

export async function restoreDrill(input: { host: string; server: string }): Promise<DrillResult> {
  upsertSearchAttributes([
    { key: hostAttribute, value: input.host },
    { key: serverAttribute, value: input.server },
    { key: statusAttribute, value: 'RUNNING' satisfies RunStatus },
  ]);
  const { runRestoreDrill } = proxyActivities<Activities>({
    taskQueue: serverTaskQueue(input.server),
    startToCloseTimeout: '7h',
    // verify's own ssh calls time out; a drill that failed is told, not retried until it passes.
    retry: { maximumAttempts: 2 },
  });
  try {
    const result = await runRestoreDrill({ host: input.host, server: input.server });
    upsertSearchAttributes([{ key: statusAttribute, value: result.status satisfies RunStatus }]);
    return result;
  } catch (error) {
    upsertSearchAttributes([{ key: statusAttribute, value: 'FAILED' satisfies RunStatus }]);
    throw error;
  }
}
