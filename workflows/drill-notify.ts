// The notify step of a restore drill: the targets its pair's backups tell hear the drill's outcome too, each
// in its own way (activities/notify.ts notifyDrillTarget). One activity lists the targets, then one per target
// runs in parallel with its own retries, as a backup's do (workflows/notify.ts). A target that still fails is
// listed in the drill's `notifications`; the drill's own status never changes. Non-cancellable, like a backup's.
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { DrillReport, DrillOutcome } from '../domain/drill.js';
import type { NotificationResult, NotifyTargetRef } from '../domain/notify.js';
import { innermostMessage, notifyActivities } from './notify.js';

/** Tells every target; returns the report with `notifications` (absent when there is no target). Never throws. */
export async function notifyDrill(report: DrillReport): Promise<DrillReport> {
  return CancellationScope.nonCancellable(async () => {
    const { host, server } = report;
    let targets: NotifyTargetRef[];
    try {
      targets = await notifyActivities(server, 5).drillTargets({ host, server });
    } catch (error) {
      return {
        ...report,
        notifications: [{ target: 'inventory', type: 'inventory', ok: false, error: innermostMessage(error) }],
      };
    }
    if (targets.length === 0) return report;
    const outcome: DrillOutcome = {
      host,
      server,
      status: report.status,
      message: report.message,
      verified: report.verified,
      mismatched: report.mismatched,
      ...(report.finishedAt ? { finishedAt: report.finishedAt } : {}),
      ...(report.previousStatus ? { previousStatus: report.previousStatus } : {}),
    };
    const notifications = await Promise.all(
      targets.map(async (target): Promise<NotificationResult> => {
        try {
          return await notifyActivities(server, target.attempts).notifyDrillTarget(target.id, outcome);
        } catch (error) {
          return { target: target.id, type: target.type, ok: false, error: innermostMessage(error) };
        }
      }),
    );
    return { ...report, notifications };
  });
}

/** The outcome of a drill whose step failed (verify could not be run, the worker gave up) or was cancelled:
 * FAILED with the error, or WARNING when cancelled (nothing was proved, nothing is known to be broken). */
export function unfinishedDrill(pair: { host: string; server: string }, error: unknown): DrillReport {
  const cancelled = isCancellation(error);
  return {
    host: pair.host,
    server: pair.server,
    status: cancelled ? 'WARNING' : 'FAILED',
    message: cancelled ? 'restore drill cancelled' : `restore drill failed: ${innermostMessage(error)}`,
    verified: 0,
    mismatched: 0,
    finishedAt: new Date().toISOString(),
  };
}
