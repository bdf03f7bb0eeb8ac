// Mail on failure and on recovery (PlanB): every FAILED run mails; the first good run (a snapshot was
// taken) after a FAILED one mails a recovery. Anything else sends nothing. "Previous" is the host's last
// settled status on this backup server, kept in the worker's state file (notify/state.ts).
import type { BackupStatus, BackupSummary } from '../domain/backup.js';
import { formatDuration } from '../domain/duration.js';
import { isGoodStatus } from '../domain/notify.js';
import type { MailTarget } from '../inventory/notify-schema.js';
import { deliverMail, type MailMessage } from './mail-transport.js';
import type { RunInfo } from './webhook.js';

export type MailKind = 'failure' | 'recovery';

/** Whether this run mails, and which mail. */
export function mailKind(summary: BackupSummary, previousStatus: BackupStatus | undefined): MailKind | undefined {
  if (summary.status === 'FAILED') return 'failure';
  if (previousStatus === 'FAILED' && isGoodStatus(summary.status) && summary.snapshot) return 'recovery';
  return undefined;
}

export function mailMessage(
  target: MailTarget,
  kind: MailKind,
  summary: BackupSummary,
  run: RunInfo,
  previousStatus: BackupStatus | undefined,
): MailMessage {
  const what = `backup of ${summary.host} on ${summary.server}`;
  const subject = kind === 'failure' ? `[tidemark] FAILED: ${what}` : `[tidemark] RECOVERED: ${what}`;
  const lines = [
    kind === 'failure' ? `The ${what} failed.` : `The ${what} succeeded again after failing.`,
    '',
    `Status:    ${summary.status}${previousStatus ? ` (previous run: ${previousStatus})` : ''}`,
    `Message:   ${summary.message}`,
    `Dataset:   ${summary.dataset || '-'}`,
    `Snapshot:  ${summary.snapshot ?? '-'}`,
    `Files:     ${summary.filesTransferred}`,
    `Bytes:     ${summary.bytesTransferred}`,
    `Duration:  ${formatDuration(summary.durationMs)}`,
    `Run:       ${run.workflowId} ${run.runId}`,
    `           ${run.url}`,
    '',
    '-- ',
    `tidemark on ${summary.server}`,
  ];
  return {
    from: target.from,
    to: target.to,
    subject,
    text: `${lines.join('\n')}\n`,
    messageId: `${run.runId}.${kind}@tidemark.${summary.server}`,
  };
}

export async function sendFailureMail(
  target: MailTarget,
  summary: BackupSummary,
  run: RunInfo,
  previousStatus: BackupStatus | undefined,
): Promise<string | undefined> {
  const kind = mailKind(summary, previousStatus);
  if (!kind) return undefined;
  const reply = await deliverMail(target, mailMessage(target, kind, summary, run, previousStatus));
  return `${kind} mail to ${target.to.join(', ')} (${reply.split('\n')[0]})`;
}
