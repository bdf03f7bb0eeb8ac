// A scheduled restore drill (schedule/desired.ts desiredDrillSchedules): on the control queue, its one
// activity on the server's own queue runs `tidemark verify` of the pair and records the result in the state file; the run carries the
// pair and the drill's status as search attributes, which `tidemark status` reads (fleet/drill-status.ts). Then
// the notify step tells the pair's targets (workflows/drill-notify.ts), a drill that could not run too.
import { patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { DrillResult } from '../activities/restore-drill.js';
import { serverTaskQueue } from '../domain/names.js';
import { hostAttribute, serverAttribute, statusAttribute, type RunStatus } from '../domain/search-attributes.js';
import { notifyDrill, unfinishedDrill } from './drill-notify.js';
import { patches } from './patches.js';

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
  let result: DrillResult;
  try {
    result = await runRestoreDrill({ host: input.host, server: input.server });
  } catch (error) {
    upsertSearchAttributes([{ key: statusAttribute, value: 'FAILED' satisfies RunStatus }]);
    // Monitoring hears a drill that could not run; the run still fails, so Temporal shows it Failed.
    if (patched(patches.drillNotify.id)) await notifyDrill(unfinishedDrill(input, error));
    throw error;
  }
  upsertSearchAttributes([{ key: statusAttribute, value: result.status satisfies RunStatus }]);
  if (!patched(patches.drillNotify.id)) return result;
  return notifyDrill(result);
}
