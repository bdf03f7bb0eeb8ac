// Names shared by the CLI, the worker and workflows: task queues, workflow ids, snapshot names, run pages.

/** Workflow code of every backup runs here; any backup server's worker may pick it up. */
export const controlTaskQueue = 'tidemark-control';

/** Quick pool work (plan, dataset, snapshot) of one backup server; it has a short schedule-to-start
 * timeout so that a dead server is reported instead of waited on. */
export function serverTaskQueue(server: string): string {
  return `tidemark-server-${server}`;
}

/** Transfers (rsync) of one backup server; its slot count is the server's concurrency. */
export function transferTaskQueue(server: string): string {
  return `tidemark-transfer-${server}`;
}

/** A host's dataset on a backup server: one child of the server's `dataset` per host, named as the host. */
export function hostDataset(serverDataset: string, host: string): string {
  return `${serverDataset}/${host}`;
}

/** The query a backup run answers with its phase (workflows/backup-host.ts); the CLI asks it by name, so it
 * need not load workflow code. */
export const progressQueryName = 'progress';
/** The restoreHost workflow's progress query; the CLI asks by name, so it never imports workflow code. */
export const restoreProgressQueryName = 'restoreProgress';

/** One id per (host, server): Temporal then refuses a second concurrent backup of the same pair. */
export function backupWorkflowId(host: string, server: string): string {
  return `backup:${host}@${server}`;
}

/** Prefix of every snapshot Tidemark creates; anything else is never touched. */
export const snapshotPrefix = 'tidemark-';

/** What a snapshot holds: a complete copy; a partial one (rsync exit 23: some files could not be read);
 * or a suspect one (the shrink guard saw the source lose more than its threshold, or held deletions).
 * Partial and suspect snapshots are "anomalies": retention never counts them as good copies. */
export type SnapshotLabel = 'complete' | 'partial' | 'suspect';

/** Snapshot name for a backup finished at `at`: `tidemark-20261123T091900Z[-partial|-suspect]`, UTC, sortable. */
export function snapshotName(at: Date, label: SnapshotLabel = 'complete'): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${snapshotPrefix}${stamp}${label === 'complete' ? '' : `-${label}`}`;
}

export interface TidemarkSnapshotName {
  takenAt: Date;
  label: SnapshotLabel;
}

/** Reads back a Tidemark snapshot name; undefined for any name Tidemark did not make. */
export function parseSnapshotName(name: string): TidemarkSnapshotName | undefined {
  const match = /^tidemark-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-(partial|suspect))?$/.exec(name);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, label] = match;
  const takenAt = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  const parsed: TidemarkSnapshotName = { takenAt, label: (label as SnapshotLabel | undefined) ?? 'complete' };
  if (Number.isNaN(takenAt.getTime()) || snapshotName(takenAt, parsed.label) !== name) return undefined;
  return parsed;
}

/** The Web UI page of one run (`temporal.uiUrl` and the namespace from the inventory's Temporal settings). */
export function runUrl(settings: { uiUrl: string; namespace: string }, workflowId: string, runId: string): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}
