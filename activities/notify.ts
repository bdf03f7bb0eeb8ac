// The notify step's activities, on the backup server's queue; targets come from this worker's inventory
// file at run time, secrets from files: the workflow passes only the summary and a target's id.
//
//   notifyStart    healthchecks /start pings (best effort, while the backup starts)
//   recordOutcome  the run into the state file (previous status, metrics); returns the targets to notify
//   notifyTarget   one target; its own retries; a failure never changes the backup's status
//   drillTargets, notifyDrillTarget   the same for a restore drill's outcome (workflows/drill-notify.ts): the same
//                  targets, each told in its own way (Icinga's drill service, Zabbix's tidemark.drill.* items, a
//                  restore-drill.finished webhook, failure and recovery mail); healthchecks pings are skipped, since
//                  a check URL stands for the backup job and a drill's ping would count as a backup
import { ApplicationFailure, Context } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import { runUrl } from '../domain/names.js';
import type { BackupInput, BackupStatus, BackupSummary } from '../domain/backup.js';
import type { DrillOutcome } from '../domain/drill.js';
import type { NotificationResult, NotifyTargetRef, OutcomeRecord } from '../domain/notify.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import { logRunEnd, type RunLog } from './run-log.js';
import { resolveGuards, resolveMonitoring } from '../inventory/resolve.js';
import { resolveTemporal } from '../temporal/settings.js';
import type { Inventory } from '../inventory/schema.js';
import { sendHealthchecks, sendPing } from '../notify/healthchecks.js';
import { sendIcinga, sendIcingaDrill } from '../notify/icinga.js';
import { sendDrillMail, sendFailureMail } from '../notify/mail.js';
import { recordedFinish, recordOutcomeInFile } from '../notify/state.js';
import { PermanentNotifyError, resolveNotifyTargets, targetRef, type ResolvedTarget } from '../notify/targets.js';
import { sendDrillWebhook, sendWebhook, type RunInfo } from '../notify/webhook.js';
import { sendZabbix, sendZabbixDrill } from '../notify/zabbix.js';

/** Errors as Temporal failures: permanent ones are not retried. */
function asFailure(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof PermanentNotifyError) return activityFailure(message, 'NotifyRejected');
  return activityFailure(message, 'NotifyFailed');
}

async function inventoryOf(path: string): Promise<Inventory> {
  try {
    // The last valid inventory when the file broke since the run started: its outcome is still told.
    return (await keptInventory(path).read()).inventory;
  } catch (error) {
    throw activityFailure((error as Error).message, 'NotifyConfig');
  }
}

/** The calling workflow run. */
function execution(): { workflowId: string; runId: string } {
  const run = Context.current().info.workflowExecution;
  if (!run) throw activityFailure('notify activities run only inside a workflow', 'NotifyConfig');
  return run;
}

function runInfo(inventory: Inventory): RunInfo {
  const { workflowId, runId } = execution();
  return { workflowId, runId, url: runUrl(resolveTemporal(inventory), workflowId, runId) };
}

/** The run's finish as recorded by recordOutcome, else when this notification was first scheduled: the
 * same on every retry. */
async function runFinishedAt(inventory: Inventory, summary: BackupSummary): Promise<Date> {
  const { stateFile } = resolveMonitoring(inventory, summary.server);
  const recorded = await recordedFinish(stateFile, summary, execution().runId);
  return recorded ?? new Date(Context.current().info.scheduledTimestampMs);
}

/** The target `targetId` of the pair, as the inventory says now. */
function targetOf(inventory: Inventory, pair: { host: string; server: string }, targetId: string): ResolvedTarget {
  const resolved = resolveNotifyTargets(inventory, pair.server, pair.host).find(
    (candidate) => candidate.id === targetId,
  );
  if (!resolved) throw activityFailure(`notify target ${targetId} is no longer in the inventory`, 'NotifyConfig');
  return resolved;
}

/** A target's result: what was sent, or skipped when nothing was due. */
function told(targetId: string, target: ResolvedTarget['target'], detail: string | undefined): NotificationResult {
  return { target: targetId, type: target.type, ok: true, ...(detail === undefined ? { skipped: true } : { detail }) };
}

export function createNotifyActivities(inventoryPath: string, log: RunLog) {
  return {
    /** Start pings of the healthchecks targets; returns how many were sent. */
    async notifyStart(input: BackupInput): Promise<number> {
      const inventory = await inventoryOf(inventoryPath);
      const { runId } = execution();
      const pings = resolveNotifyTargets(inventory, input.server, input.host).flatMap(({ target }) =>
        target.type === 'healthchecks' ? [target] : [],
      );
      const errors: string[] = [];
      for (const target of pings)
        await sendPing(target, input, 'start', runId).catch((error: Error) => errors.push(error.message));
      if (errors.length > 0) throw activityFailure(errors.join('; '), 'NotifyFailed');
      return pings.length;
    },

    /** Records the run in the state file (metrics read it) and lists the targets to notify, with the
     * escalation when this run completes a partial or held streak. A state file that cannot be written, or was
     * damaged and started afresh, does not stop the notifications: it is reported beside them. */
    async recordOutcome(summary: BackupSummary): Promise<OutcomeRecord> {
      logRunEnd(log, summary);
      const inventory = await inventoryOf(inventoryPath);
      const { runId } = execution();
      const { stateFile } = resolveMonitoring(inventory, summary.server);
      const targets = resolveNotifyTargets(inventory, summary.server, summary.host).map(targetRef);
      const { partialRunsBeforeFailed, heldRunsBeforeFailed } = resolveGuards(inventory, summary.host);
      try {
        const { previousStatus, escalation, warning } = await recordOutcomeInFile(stateFile, summary, runId, {
          partialRunsBeforeFailed,
          heldRunsBeforeFailed,
        });
        return {
          targets,
          ...(previousStatus ? { previousStatus } : {}),
          ...(escalation ? { escalation } : {}),
          ...(warning ? { stateWarning: warning } : {}),
        };
      } catch (error) {
        return { targets, stateError: `state file ${stateFile}: ${(error as Error).message}` };
      }
    },

    /** Tells one target; throws (and is retried) when it could not be told. */
    async notifyTarget(
      targetId: string,
      summary: BackupSummary,
      previousStatus?: BackupStatus,
    ): Promise<NotificationResult> {
      const inventory = await inventoryOf(inventoryPath);
      const { target } = targetOf(inventory, summary, targetId);
      const run = runInfo(inventory);
      const result = (detail: string | undefined) => told(targetId, target, detail);
      try {
        switch (target.type) {
          case 'icinga':
            return result(await sendIcinga(target, summary));
          case 'webhook':
            return result(await sendWebhook(target, summary, run, previousStatus));
          case 'healthchecks':
            return result(await sendHealthchecks(target, summary, run.runId));
          case 'zabbix':
            return result(await sendZabbix(target, summary, await runFinishedAt(inventory, summary)));
          case 'mail':
            return result(await sendFailureMail(target, summary, run, previousStatus));
        }
      } catch (error) {
        throw asFailure(error);
      }
    },

    /** The targets a restore drill of the pair tells: those of its backups. */
    async drillTargets(pair: { host: string; server: string }): Promise<NotifyTargetRef[]> {
      const inventory = await inventoryOf(inventoryPath);
      return resolveNotifyTargets(inventory, pair.server, pair.host).map(targetRef);
    },

    /** Tells one target a restore drill's outcome; throws (and is retried) when it could not be told. */
    async notifyDrillTarget(targetId: string, drill: DrillOutcome): Promise<NotificationResult> {
      const inventory = await inventoryOf(inventoryPath);
      const { target } = targetOf(inventory, drill, targetId);
      const run = runInfo(inventory);
      const result = (detail: string | undefined) => told(targetId, target, detail);
      // The drill's own finish on every retry; before it finished (it failed to run), when this step was scheduled.
      const finishedAt = new Date(drill.finishedAt ?? Context.current().info.scheduledTimestampMs);
      try {
        switch (target.type) {
          case 'icinga':
            return result(await sendIcingaDrill(target, drill));
          case 'webhook':
            return result(await sendDrillWebhook(target, drill, run));
          case 'healthchecks':
            return result(undefined);
          case 'zabbix':
            return result(await sendZabbixDrill(target, drill, finishedAt));
          case 'mail':
            return result(await sendDrillMail(target, drill, run));
        }
      } catch (error) {
        throw asFailure(error);
      }
    },
  };
}
