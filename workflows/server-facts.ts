// The web console asks one backup server for its pool facts: a workflow on the control queue (any worker runs
// it) whose one activity waits on that server's queue only briefly, so a server whose worker is down answers
// with a failure in seconds instead of a request that hangs.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { serverTaskQueue } from '../domain/names.js';
import type { ServerFacts } from '../domain/server-facts.js';

export async function serverFacts(input: { server: string }): Promise<ServerFacts> {
  return askServer(input.server).readServerFacts();
}

/** One host's snapshots on the server, for the console's host page (a page reload asks again). */
export async function hostFacts(input: { server: string; host: string }) {
  return askServer(input.server).readHostFacts({ host: input.host });
}

/** One directory of one of the host's snapshots, for the console's browser. */
export async function snapshotFiles(input: { server: string; host: string; snapshot?: string; path: string }) {
  const { server, ...request } = input;
  return askServer(server).readSnapshotFiles(request);
}

/** A piece of a regular file of one of the host's snapshots, for the console's download. */
export async function snapshotFileChunk(input: {
  server: string;
  host: string;
  snapshot: string;
  path: string;
  offset: number;
}) {
  const { server, ...request } = input;
  return askServer(server).readSnapshotFileChunk(request);
}

/** Which of the host's snapshots hold a path, for the console's history page. */
export async function pathHistory(input: { server: string; host: string; path: string }) {
  const { server, ...request } = input;
  return askServer(server).readPathHistory(request);
}

/** Entries matching a glob across the host's snapshots, for the console's find. */
export async function findMatches(input: { server: string; host: string; pattern: string; ignoreCase: boolean }) {
  const { server, ...request } = input;
  return askServer(server).readFindMatches(request);
}

function askServer(server: string) {
  return proxyActivities<Activities>({
    taskQueue: serverTaskQueue(server),
    scheduleToStartTimeout: '5s',
    startToCloseTimeout: '30s',
    // A console asks again at its next refresh: no retry here.
    retry: { maximumAttempts: 1 },
  });
}
