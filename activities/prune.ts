// The prune activity: pool/prune.ts destroys what a retention plan names, each after a fresh safety check;
// this adds the heartbeat Temporal watches.
import { Context } from '@temporalio/activity';
import { destroyPlanned, type PruneRequest, type PruneResult } from '../pool/prune.js';

/** The activity: prunes with a heartbeat after each snapshot (a large first prune after adoption takes a while). */
export async function pruneSnapshots(request: PruneRequest): Promise<PruneResult> {
  const context = Context.current();
  return destroyPlanned(request, (done, total) => context.heartbeat({ done, total }));
}
