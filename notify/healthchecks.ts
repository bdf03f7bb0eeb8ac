// healthchecks.io-style pings: <url>/start when a run starts, <url> when it ends well, <url>/fail when it
// failed, <url>/log when it was cancelled (logged; the check then goes down if no good run follows).
// Each carries rid=<run id> so the service pairs start and end; the body is the status line.
import type { BackupStatus, BackupSummary } from '../domain/backup.js';
import { statusLine } from './format.js';
import { httpRequest } from './http.js';
import type { HealthchecksTarget } from '../inventory/notify-schema.js';
import { fillTemplate, PermanentNotifyError } from './targets.js';

export type PingKind = 'start' | 'success' | 'fail' | 'log';

export function pingKind(status: BackupStatus): PingKind {
  if (status === 'FAILED') return 'fail';
  if (status === 'CANCELLED') return 'log';
  return 'success';
}

/** The ping URL: the target's URL with /start, /fail or /log appended and rid=<run id>. */
export function pingUrl(base: string, kind: PingKind, runId: string): string {
  const url = new URL(base);
  if (kind !== 'success') url.pathname = `${url.pathname.replace(/\/$/, '')}/${kind}`;
  url.searchParams.set('rid', runId);
  return url.toString();
}

export async function sendPing(
  target: HealthchecksTarget,
  names: { host: string; server: string },
  kind: PingKind,
  runId: string,
  body = '',
): Promise<string> {
  const url = pingUrl(fillTemplate(target.url, names, true), kind, runId);
  const response = await httpRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'user-agent': 'tidemark' },
    body,
    timeoutMs: 10_000,
  });
  if (response.status >= 200 && response.status < 300) return `${kind} ping`;
  const message = `healthchecks ${new URL(url).origin} answered HTTP ${response.status} to the ${kind} ping: ${response.body.slice(0, 200)}`;
  if (response.status === 404 || response.status === 400) throw new PermanentNotifyError(message);
  throw new Error(message);
}

export function sendHealthchecks(target: HealthchecksTarget, summary: BackupSummary, runId: string): Promise<string> {
  return sendPing(target, summary, pingKind(summary.status), runId, statusLine(summary));
}
