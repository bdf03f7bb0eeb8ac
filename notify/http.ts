// Small HTTP helper for the targets (undici): timeouts, an optional CA, errors that say what failed.
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { readSecretFile, SecretFileModeError } from '../inventory/secret-file.js';
import { PermanentNotifyError } from './targets.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM file of the CA to trust instead of the system's. */
  caFile?: string;
  /** Name the server certificate is checked against (and sent as SNI). */
  tlsServerName?: string;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  body: string;
}

/** Sends one request; a network error or timeout throws with the URL's origin named. */
export async function httpRequest(options: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const ca = options.caFile ? await readFile(options.caFile, 'utf8') : undefined;
  const dispatcher = new Agent({
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { ...(ca ? { ca } : {}), ...(options.tlsServerName ? { servername: options.tlsServerName } : {}) },
  });
  try {
    const response = await request(options.url, {
      method: options.method,
      headers: options.headers ?? {},
      ...(options.body !== undefined ? { body: options.body } : {}),
      dispatcher,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.statusCode, body: await response.body.text() };
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    // eslint-disable-next-line preserve-caught-error -- the cause's message holds the unredacted URL (a webhook URL may carry a token)
    throw new Error(
      `${options.method} ${urlOrigin(options.url)}: ${redactUrls(`${(error as Error).message}${cause ? ` (${cause})` : ''}`)}`,
    );
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

/** `url` fit for a message: without user:password@, ?query and #fragment (a password or token often
 * rides there). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** Every http(s) URL inside `text` redacted (error texts and answer excerpts can quote one). */
export function redactUrls(text: string): string {
  // A URL ends before white space and quotes; punctuation after it belongs to the sentence.
  return text.replace(/\bhttps?:\/\/[^\s"'<>]*[^\s"'<>.,;:)]/gi, (url) => redactUrl(url));
}

/** scheme://host:port of `url`, never its credentials. */
function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparsable URL)';
  }
}

/** A secret from a file: its content without the trailing newline. A missing file, or one group or
 * others can read, names itself and the fix. */
export async function readSecret(path: string, what: string): Promise<string> {
  try {
    return (await readSecretFile(path, what)).replace(/\r?\n$/, '');
  } catch (error) {
    if (error instanceof SecretFileModeError) throw new PermanentNotifyError(error.message);
    throw new PermanentNotifyError(`cannot read the ${what} file ${path}: ${(error as Error).message}`);
  }
}
