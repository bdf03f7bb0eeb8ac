// Monitoring and notification: what the workflow and the notify activities exchange, and the status
// codes every target shares. Pure; usable in workflow code.
import type { BackupStatus, BackupSummary } from './backup.js';

/** One configured target as the workflow sees it: no URLs, no secrets, just how to call and retry it.
 * `Type`: the schema's target types (NotifyTargetType in inventory/notify-schema.ts). */
export interface NotifyTargetRef<Type extends string = string> {
  /** Where it is in the inventory: "notify.0" or "servers.<server>.notify.1". */
  id: string;
  type: Type;
  /** Attempts of its notify activity, the first included (default 5). */
  attempts: number;
}

/** How one target fared, in the run's summary (`notifications`). */
export interface NotificationResult {
  /** The target's id, e.g. "notify.0". */
  target: string;
  type: string;
  ok: boolean;
  /** Nothing was sent because nothing was due (mail: neither a failure nor a recovery). */
  skipped?: boolean;
  /** What was sent, e.g. "CRITICAL to demo-host!BACKUP-b1". */
  detail?: string;
  /** Why it failed after its last attempt. */
  error?: string;
}

/** What `recordOutcome` returns: the targets to notify and the host's previous settled status. */
export interface OutcomeRecord {
  targets: NotifyTargetRef[];
  /** Status of the run before this one, cancelled runs skipped (for recovery mail); undefined at first. */
  previousStatus?: BackupStatus;
  /** The state file could not be written (targets are still notified; recovery mail may be missed). */
  stateError?: string;
  /** The state file was damaged: moved aside and started afresh with this run (reported, never fatal). */
  stateWarning?: string;
  /** This run completes a streak of partial runs (guards.partialRunsBeforeFailed): targets are told FAILED.
   * Absent in outcomes recorded before the partial escalation existed. */
  escalation?: string;
}

/**
 * What an escalated run sends and returns: the targets get status FAILED with the reason first; the run's
 * own summary keeps its status and gains a note. Without an escalation both are the summary itself.
 */
export function escalatedSummaries(
  summary: BackupSummary,
  escalation: string | undefined,
): { toTargets: BackupSummary; toCaller: BackupSummary } {
  if (!escalation) return { toTargets: summary, toCaller: summary };
  return {
    toTargets: { ...summary, status: 'FAILED', message: `${escalation}: ${summary.message}` },
    toCaller: { ...summary, message: `${summary.message}; ${escalation}${escalationNote}` },
  };
}

/**
 * Monitoring code of a status, shared by Icinga (exit_status), Zabbix (`tidemark.status`) and
 * Prometheus (`tidemark_last_status`): 0 OK, 1 WARNING, 2 FAILED. A cancelled run is reported as
 * WARNING: no backup was made, but nothing is broken either.
 */
export function statusCode(status: BackupStatus): 0 | 1 | 2 {
  if (status === 'SUCCESS') return 0;
  if (status === 'FAILED') return 2;
  return 1;
}

/** True when a run counts as a good backup (a snapshot was taken): SUCCESS or WARNING. */
export function isGoodStatus(status: BackupStatus | undefined): boolean {
  return status === 'SUCCESS' || status === 'WARNING';
}

/** How the run's own summary says it was escalated (read back by `status`). */
const escalationNote = ', reported to monitoring as FAILED';

/** The escalation a run's summary message carries ("3 partial runs in a row (…)"), if any. */
export function escalationIn(message: string | undefined): string | undefined {
  if (!message?.endsWith(escalationNote)) return undefined;
  const body = message.slice(0, -escalationNote.length);
  return body.slice(body.lastIndexOf('; ') + 2) || undefined;
}
