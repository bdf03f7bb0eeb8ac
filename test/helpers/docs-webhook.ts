// The webhook verification snippet of docs/how-to/monitoring.md, loaded as it is printed there: the tests
// check deliveries with the code receivers are told to use.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type WebhookVerifier = (
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string | Buffer,
  nowMs?: number,
) => boolean;

const monitoringDoc = new URL('../../../docs/how-to/monitoring.md', import.meta.url);

export async function docsWebhookVerifier(): Promise<WebhookVerifier> {
  const text = readFileSync(monitoringDoc, 'utf8');
  const block = /```js\n(import \{ createHmac[\s\S]*?export function verifyTidemarkWebhook[\s\S]*?)```/.exec(text)?.[1];
  if (!block) throw new Error('docs/how-to/monitoring.md has no ```js block defining verifyTidemarkWebhook');
  const file = join(mkdtempSync(join(tmpdir(), 'tidemark-docs-webhook-')), 'verify.mjs');
  writeFileSync(file, block);
  return ((await import(pathToFileURL(file).href)) as { verifyTidemarkWebhook: WebhookVerifier }).verifyTidemarkWebhook;
}
