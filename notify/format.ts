// Texts every target shares: the one-line status, performance figures, the mail body.
import type { BackupSummary } from '../domain/backup.js';
import type { DrillOutcome } from '../domain/drill.js';
import { formatDuration } from '../domain/duration.js';
import { statusCode } from '../domain/notify.js';

const codeLabel = ['OK', 'WARNING', 'CRITICAL'] as const;

/** "OK", "WARNING" or "CRITICAL" (Nagios plugin words) for a run's status. */
export function statusLabel(summary: Pick<BackupSummary, 'status'>): (typeof codeLabel)[number] {
  return codeLabel[statusCode(summary.status)];
}

/** One line, at most `max` characters: newlines folded, long texts cut with "…". */
export function oneLine(text: string, max = 1000): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' | ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * The plugin-style status line, e.g.
 * "BACKUP OK - 12 files, 3456 bytes in 4s, snapshot data/vpn@tidemark-20261123T101500Z" or
 * "BACKUP CRITICAL - backup of vpn on b1 failed during transfer: rsync … exited 255: …".
 */
export function statusLine(summary: BackupSummary): string {
  const label = statusLabel(summary);
  if (summary.status === 'FAILED' || summary.status === 'CANCELLED' || !summary.snapshot) {
    return oneLine(`BACKUP ${label} - ${summary.status === 'CANCELLED' ? 'cancelled: ' : ''}${summary.message}`);
  }
  const figures = `${summary.filesTransferred} files, ${summary.bytesTransferred} bytes in ${formatDuration(summary.durationMs)}, snapshot ${summary.snapshot}`;
  return oneLine(`BACKUP ${label} - ${figures}${summary.status === 'WARNING' ? `; ${summary.message}` : ''}`);
}

/** Nagios performance data: bytes, files, duration (seconds). */
export function performanceData(summary: BackupSummary): string[] {
  return [
    `bytes=${summary.bytesTransferred}B;;;0`,
    `files=${summary.filesTransferred};;;0`,
    `duration=${(summary.durationMs / 1000).toFixed(3)}s;;;0`,
  ];
}

/** A restore drill's plugin-style line, e.g. "RESTORE DRILL OK - restore drill of data/vpn@tidemark-…: 200 of 200
 * files verified" or "RESTORE DRILL CRITICAL - restore drill failed: …". */
export function drillStatusLine(drill: DrillOutcome): string {
  return oneLine(`RESTORE DRILL ${statusLabel(drill)} - ${drill.message}`);
}

/** Nagios performance data of a drill: files verified and files differing. */
export function drillPerformanceData(drill: DrillOutcome): string[] {
  return [`verified=${drill.verified};;;0`, `mismatched=${drill.mismatched};;;0`];
}
