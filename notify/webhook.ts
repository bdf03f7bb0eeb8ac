// Webhook: a JSON POST of the run's summary, signed with HMAC-SHA256 when a secret file is configured:
// `X-Tidemark-Timestamp: <unix seconds>` and `X-Tidemark-Signature: sha256=<hex of HMAC(secret,
// "<timestamp>.<raw body>")>`; the timestamp is signed so that a recorded delivery cannot be replayed
// later (receivers reject old ones). `X-Tidemark-Delivery` is the run id, the same on every retry, so a
// receiver can drop a duplicate. A restore drill posts `{event: "restore-drill.finished", …, drill}` to the same
// URL with the same headers (X-Tidemark-Event says which event).
import { createHmac } from 'node:crypto';
import type { BackupStatus, BackupSummary } from '../domain/backup.js';
import type { DrillOutcome } from '../domain/drill.js';
import { drillMailKind, mailKind } from './mail.js';
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

/** What a restore drill posts: its outcome under `drill`. */
export interface DrillWebhookBody {
  event: 'restore-drill.finished';
  workflowId: string;
  runId: string;
  url: string;
  drill: DrillOutcome;
  /** Present (true) on the first drill that passed (SUCCESS or WARNING) after a FAILED one. */
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

export function drillWebhookBody(drill: DrillOutcome, run: RunInfo): string {
  const body: DrillWebhookBody = {
    event: 'restore-drill.finished',
    workflowId: run.workflowId,
    runId: run.runId,
    url: run.url,
    drill,
    ...(drillMailKind(drill) === 'recovery' ? { recovery: true as const } : {}),
  };
  return JSON.stringify(body);
}

/** "sha256=<hex>" of "<timestamp>.<body>" under the secret. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function sendWebhook(
  target: WebhookTarget,
  summary: BackupSummary,
  run: RunInfo,
  previousStatus?: BackupStatus,
): Promise<string> {
  return postWebhook(target, 'backup.finished', webhookBody(summary, run, previousStatus), summary, run.runId);
}

export function sendDrillWebhook(target: WebhookTarget, drill: DrillOutcome, run: RunInfo): Promise<string> {
  return postWebhook(target, 'restore-drill.finished', drillWebhookBody(drill, run), drill, run.runId);
}

/** Posts one signed delivery to the target's URL (its {host} and {server} filled from `names`). */
async function postWebhook(
  target: WebhookTarget,
  event: WebhookBody['event'] | DrillWebhookBody['event'],
  body: string,
  names: { host: string; server: string },
  deliveryId: string,
): Promise<string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'tidemark',
    'x-tidemark-event': event,
    'x-tidemark-delivery': deliveryId,
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
  const url = fillTemplate(target.url, names, true);
  const response = await httpRequest({ method: 'POST', url, headers, body });
  if (response.status >= 200 && response.status < 300) return `HTTP ${response.status} from ${new URL(url).origin}`;
  const message = `webhook ${new URL(url).origin} answered HTTP ${response.status}: ${response.body.slice(0, 200)}`;
  // 4xx other than timeouts and rate limits will not change by retrying.
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429)
    throw new PermanentNotifyError(message);
  throw new Error(message);
}
