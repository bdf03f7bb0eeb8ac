// Keeps a run's search attributes (domain/search-attributes.ts) in step with its outcome. Upserting is a
// workflow command: runs recorded before it existed replay without it, hence the patch.
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { BackupSummary } from '../domain/backup.js';
import {
  bytesAttribute,
  hostAttribute,
  serverAttribute,
  statusAttribute,
  type RunStatus,
} from '../domain/search-attributes.js';
import { patches } from './patches.js';

/** A backup ended (any status, including a FAILED or CANCELLED summary of a run that throws next);
 * returns the summary unchanged. */
export function recordBackupOutcome(summary: BackupSummary): BackupSummary {
  if (!patched(patches.searchAttributes.id)) return summary;
  // Host and server again: a run started without them (by hand, with `temporal workflow start`) is found too.
  upsertSearchAttributes([
    { key: hostAttribute, value: summary.host },
    { key: serverAttribute, value: summary.server },
    { key: statusAttribute, value: summary.status },
    { key: bytesAttribute, value: summary.bytesTransferred },
  ]);
  return summary;
}

/** The scheduled parent: tagged with its pair when it starts, with its outcome when it ends. */
export function recordScheduledStart(host: string, server: string): void {
  if (!patched(patches.searchAttributes.id)) return;
  upsertSearchAttributes([
    { key: hostAttribute, value: host },
    { key: serverAttribute, value: server },
    { key: statusAttribute, value: 'RUNNING' satisfies RunStatus },
  ]);
}

export function recordScheduledOutcome(status: RunStatus): void {
  if (!patched(patches.searchAttributes.id)) return;
  upsertSearchAttributes([{ key: statusAttribute, value: status }]);
}
