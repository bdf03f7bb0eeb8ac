// Mail on failure and on recovery (PlanB): every FAILED run mails; the first good run (a snapshot was
// taken) after a FAILED one mails a recovery. Anything else sends nothing. "Previous" is the host's last
// settled status on this backup server, kept in the worker's state file (notify/state.ts). Restore drills
// follow the same rule with their own previous status: a FAILED drill mails, the first passing one after it
// mails a recovery.
import type { BackupStatus, BackupSummary } from '../domain/backup.js';
import type { DrillOutcome } from '../domain/drill.js';
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

/** Whether a restore drill mails, and which mail. */
export function drillMailKind(drill: Pick<DrillOutcome, 'status' | 'previousStatus'>): MailKind | undefined {
  if (drill.status === 'FAILED') return 'failure';
  if (drill.previousStatus === 'FAILED') return 'recovery';
  return undefined;
}

export function mailMessage(
  target: MailTarget,
  kind: MailKind,
  summary: BackupSummary,
  run: RunInfo,
  previousStatus: BackupStatus | undefined,
): MailMessage {
  return composed(target, kind, `backup of ${summary.host} on ${summary.server}`, summary.server, run, [
    `Status:    ${summary.status}${previousStatus ? ` (previous run: ${previousStatus})` : ''}`,
    `Message:   ${summary.message}`,
    `Dataset:   ${summary.dataset || '-'}`,
    `Snapshot:  ${summary.snapshot ?? '-'}`,
    `Files:     ${summary.filesTransferred}`,
    `Bytes:     ${summary.bytesTransferred}`,
    `Duration:  ${formatDuration(summary.durationMs)}`,
  ]);
}

export function drillMailMessage(target: MailTarget, kind: MailKind, drill: DrillOutcome, run: RunInfo): MailMessage {
  return composed(target, kind, `restore drill of ${drill.host} on ${drill.server}`, drill.server, run, [
    `Status:    ${drill.status}${drill.previousStatus ? ` (previous drill: ${drill.previousStatus})` : ''}`,
    `Message:   ${drill.message}`,
    `Verified:  ${drill.verified}`,
    `Differing: ${drill.mismatched}`,
  ]);
}

/** The mail around `facts`: subject, opening sentence, the run's link and the signature. */
function composed(
  target: MailTarget,
  kind: MailKind,
  what: string,
  server: string,
  run: RunInfo,
  facts: string[],
): MailMessage {
  const subject = kind === 'failure' ? `[tidemark] FAILED: ${what}` : `[tidemark] RECOVERED: ${what}`;
  const lines = [
    kind === 'failure' ? `The ${what} failed.` : `The ${what} succeeded again after failing.`,
    '',
    ...facts,
    `Run:       ${run.workflowId} ${run.runId}`,
    `           ${run.url}`,
    '',
    '-- ',
    `tidemark on ${server}`,
  ];
  return {
    from: target.from,
    to: target.to,
    subject,
    text: `${lines.join('\n')}\n`,
    messageId: `${run.runId}.${kind}@tidemark.${server}`,
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

/** Mails a FAILED drill, and a recovery for the first passing drill after one; otherwise sends nothing. */
export async function sendDrillMail(
  target: MailTarget,
  drill: DrillOutcome,
  run: RunInfo,
): Promise<string | undefined> {
  const kind = drillMailKind(drill);
  if (!kind) return undefined;
  const reply = await deliverMail(target, drillMailMessage(target, kind, drill, run));
  return `drill ${kind} mail to ${target.to.join(', ')} (${reply.split('\n')[0]})`;
}
