// Small HTTP helper for the targets (undici): timeouts, an optional CA, errors that say what failed.
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
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
    const origin = new URL(options.url).origin;
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(`${options.method} ${origin}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

/** A secret from a file: its content without the trailing newline. A missing file names itself. */
export async function readSecret(path: string, what: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (error) {
    throw new PermanentNotifyError(`cannot read the ${what} file ${path}: ${(error as Error).message}`);
  }
}
