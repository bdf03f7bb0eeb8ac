// Webhook: a JSON POST of the run's summary, signed with HMAC-SHA256 when a secret file is configured:
// `X-Tidemark-Timestamp: <unix seconds>` and `X-Tidemark-Signature: sha256=<hex of HMAC(secret,
// "<timestamp>.<raw body>")>`; the timestamp is signed so that a recorded delivery cannot be replayed
// later (receivers reject old ones). `X-Tidemark-Delivery` is the run id, the same on every retry, so a
// receiver can drop a duplicate.
import { createHmac } from 'node:crypto';
import type { BackupStatus, BackupSummary } from '../domain/backup.js';
import { mailKind } from './mail.js';
import { httpRequest, readSecret } from './http.js';
import type { WebhookTarget } from '../inventory/notify-schema.js';
import { fillTemplate, PermanentNotifyError } from './targets.js';

export interface RunInfo {
  workflowId: string;
  runId: string;
  /** The run's page in the Temporal Web UI. */
  url: string;
}

export interface WebhookBody {
  event: 'backup.finished';
  workflowId: string;
  runId: string;
  url: string;
  summary: BackupSummary;
  /** Present (true) on the first good run (a snapshot was taken) after a FAILED one: PlanB's recovery notice,
   * by the mail target's rule. */
  recovery?: true;
}

export function webhookBody(summary: BackupSummary, run: RunInfo, previousStatus?: BackupStatus): string {
  const body: WebhookBody = {
    event: 'backup.finished',
    workflowId: run.workflowId,
    runId: run.runId,
    url: run.url,
    summary,
    ...(mailKind(summary, previousStatus) === 'recovery' ? { recovery: true as const } : {}),
  };
  return JSON.stringify(body);
}

/** "sha256=<hex>" of "<timestamp>.<body>" under the secret. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export async function sendWebhook(
  target: WebhookTarget,
  summary: BackupSummary,
  run: RunInfo,
  previousStatus?: BackupStatus,
): Promise<string> {
  const body = webhookBody(summary, run, previousStatus);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'tidemark',
    'x-tidemark-event': 'backup.finished',
    'x-tidemark-delivery': run.runId,
  };
  if (target.secretFile) {
    // Each attempt its own time: a retry minutes later must not look like a replay.
    const timestamp = Math.floor(Date.now() / 1000);
    headers['x-tidemark-timestamp'] = String(timestamp);
    headers['x-tidemark-signature'] = webhookSignature(
      await readSecret(target.secretFile, 'webhook secret'),
      timestamp,
      body,
    );
  }
  const url = fillTemplate(target.url, summary, true);
  const response = await httpRequest({ method: 'POST', url, headers, body });
  if (response.status >= 200 && response.status < 300) return `HTTP ${response.status} from ${new URL(url).origin}`;
  const message = `webhook ${new URL(url).origin} answered HTTP ${response.status}: ${response.body.slice(0, 200)}`;
  // 4xx other than timeouts and rate limits will not change by retrying.
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429)
    throw new PermanentNotifyError(message);
  throw new Error(message);
}
