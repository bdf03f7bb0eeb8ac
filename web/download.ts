// A single file of a snapshot, downloaded from the console: the server's worker reads it piece by piece
// (pool/snapshot-files.ts, 1 MiB per `snapshotFileChunk` workflow, under Temporal's payload limit) and the
// pieces are streamed to the browser as they come, byte for byte as the snapshot holds them.
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { ApplicationFailure, type Client } from '@temporalio/client';
import { controlTaskQueue } from '../domain/names.js';
import { snapshotFilesWorkflowId } from '../domain/server-facts.js';
import type { FileChunk } from '../pool/snapshot-files.js';

export interface DownloadRequest {
  host: string;
  server: string;
  snapshot: string;
  path: string;
}

/** The worker's refusal of a request (no such snapshot, not a regular file), as opposed to no answer. */
export class DownloadRefused extends Error {}

async function chunkAt(client: Client, request: DownloadRequest, offset: number): Promise<FileChunk> {
  try {
    return (await client.workflow.execute('snapshotFileChunk', {
      taskQueue: controlTaskQueue,
      workflowId: snapshotFilesWorkflowId(request.server, request.host, randomUUID()),
      args: [{ ...request, offset }],
      workflowExecutionTimeout: '60s',
    })) as FileChunk;
  } catch (error) {
    let cause: unknown = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    if (cause instanceof ApplicationFailure && cause.type === 'USAGE') throw new DownloadRefused(cause.message);
    throw error;
  }
}

/** The response for the file: its first piece is read before, so a refusal is an error page, not a cut file. */
export async function downloadResponse(client: Client, request: DownloadRequest): Promise<Response> {
  const first = await chunkAt(client, request, 0);
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const chunk = offset === 0 ? first : await chunkAt(client, request, offset);
      const bytes = Buffer.from(chunk.data, 'base64');
      if (bytes.length > 0) controller.enqueue(new Uint8Array(bytes));
      offset += bytes.length;
      if (bytes.length === 0 || offset >= first.size) controller.close();
    },
  });
  const name = basename(request.path);
  return new Response(body, {
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(first.size),
      // RFC 6266: a plain ASCII fallback and the exact name in UTF-8.
      'content-disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    },
  });
}
