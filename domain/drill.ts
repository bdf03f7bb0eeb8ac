// A restore drill's outcome as monitoring is told it: activities/restore-drill.ts makes it, workflows/drill-notify.ts
// hands it to one notify activity per target, notify/ sends it. Pure; usable in workflow code.
import type { NotificationResult } from './notify.js';

export type DrillStatus = 'SUCCESS' | 'WARNING' | 'FAILED';

export interface DrillOutcome {
  host: string;
  server: string;
  status: DrillStatus;
  /** One line: what the drill proved or why it failed. */
  message: string;
  /** Files compared with the host and found identical, and found differing. */
  verified: number;
  mismatched: number;
  /** ISO 8601, as the state file records it (Zabbix stamps the values with it). Absent when the drill did not
   * run to its end (the notify activity then uses the time it was scheduled). */
  finishedAt?: string;
  /** The pair's drill status before this one, from the state file: a recovery mail follows a FAILED one. */
  previousStatus?: DrillStatus;
}

/** What the restoreDrill workflow returns: the outcome, and how each notify target fared (absent in runs from
 * before drills were notified, and when no target is configured). */
export interface DrillReport extends DrillOutcome {
  /** The state file could not take the result (it is still in the workflow's result). */
  warning?: string;
  notifications?: NotificationResult[];
}
