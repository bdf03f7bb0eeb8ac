// The web console's host page asks this backup server for one host's snapshots: the same report
// `tidemark snapshots` prints here (pool/snapshot-report.ts), read from this worker's own inventory and pool;
// and its browser asks for one directory of a snapshot, as `tidemark files` lists it.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { pickSnapshot, relativeRestorePath, restorePathProblem } from '../domain/restore.js';
import { TidemarkError } from '../domain/errors.js';
import { hostTarget } from '../inventory/host-target.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import { resolveHost } from '../inventory/resolve.js';
import { findInSnapshots, type FindReport } from '../pool/snapshot-find.js';
import { snapshotReport, type SnapshotReport } from '../pool/snapshot-report.js';
import {
  pathHistory,
  readFileChunk,
  snapshotEntries,
  type FileChunk,
  type HistoryReport,
  type SnapshotListing,
} from '../pool/snapshot-files.js';
import { datasetInfo, listSnapshots } from '../pool/zfs.js';

export async function readHostFacts(inventoryPath: string, server: string, host: string): Promise<SnapshotReport> {
  const { inventory } = await keptInventory(inventoryPath).read();
  const target = hostTarget(inventory, resolveHost(inventory, host), server);
  const exists = (await datasetInfo(target.dataset)) !== undefined;
  return (await snapshotReport({ ...target, exists })).report;
}

/** Entries sent at most: a workflow result stays well under Temporal's payload limit. */
const maxEntries = 2_000;

/** One directory of one of the host's snapshots on this server, as `tidemark files` lists it. The snapshot
 * must be one the dataset has; the path is absolute and plain (no "." or ".."), looked up without following
 * the host's symlinks. A page's request that cannot be met is a usage failure naming the field. */
export async function readSnapshotFiles(
  inventoryPath: string,
  server: string,
  request: { host: string; snapshot?: string; path: string },
): Promise<SnapshotListing> {
  const problem = restorePathProblem(request.path);
  if (problem) throw ApplicationFailure.nonRetryable(`path: ${problem}`, 'USAGE');
  const { inventory } = await keptInventory(inventoryPath).read();
  const target = hostTarget(inventory, resolveHost(inventory, request.host), server);
  const names = (await listSnapshots(target.dataset)).map((snapshot) => snapshot.name);
  const picked = pickSnapshot(names, request.snapshot !== undefined ? { snapshot: request.snapshot } : {});
  if ('problem' in picked) throw ApplicationFailure.nonRetryable(`snapshot: ${picked.problem}`, 'USAGE');
  const entries = await snapshotEntries(
    target.dataset,
    picked.name,
    relativeRestorePath(request.path),
    `${process.pid}-${randomUUID().slice(0, 8)}`,
  );
  return {
    snapshots: names,
    snapshot: picked.name,
    path: request.path,
    ...(entries ? { entries: entries.slice(0, maxEntries) } : {}),
    truncated: (entries?.length ?? 0) > maxEntries,
  };
}

/** A piece of one regular file of one of the host's snapshots, for the console's download: the snapshot named
 * exactly (one the dataset has), the path as for readSnapshotFiles. */
export async function readSnapshotFileChunk(
  inventoryPath: string,
  server: string,
  request: { host: string; snapshot: string; path: string; offset: number },
): Promise<FileChunk> {
  const problem = restorePathProblem(request.path);
  if (problem) throw ApplicationFailure.nonRetryable(`path: ${problem}`, 'USAGE');
  const { inventory } = await keptInventory(inventoryPath).read();
  const target = hostTarget(inventory, resolveHost(inventory, request.host), server);
  const names = (await listSnapshots(target.dataset)).map((snapshot) => snapshot.name);
  if (!names.includes(request.snapshot))
    throw ApplicationFailure.nonRetryable(`snapshot: ${target.dataset} has no snapshot "${request.snapshot}"`, 'USAGE');
  const chunk = await readFileChunk(
    target.dataset,
    request.snapshot,
    relativeRestorePath(request.path),
    request.offset,
    `${process.pid}-${randomUUID().slice(0, 8)}`,
  );
  if (!chunk)
    throw ApplicationFailure.nonRetryable(
      `path: ${request.path} is not a regular file in ${request.snapshot}`,
      'USAGE',
    );
  return chunk;
}

/** Which of the host's snapshots on this server hold a path, as `tidemark history` says it. */
export async function readPathHistory(
  inventoryPath: string,
  server: string,
  request: { host: string; path: string },
): Promise<HistoryReport> {
  const problem = restorePathProblem(request.path);
  if (problem) throw ApplicationFailure.nonRetryable(`path: ${problem}`, 'USAGE');
  const { inventory } = await keptInventory(inventoryPath).read();
  const target = hostTarget(inventory, resolveHost(inventory, request.host), server);
  return pathHistory(target, request.path, `${process.pid}-${randomUUID().slice(0, 8)}`);
}

/** Entries matching a glob in each of the host's snapshots on this server, as `tidemark find` lists them. */
export async function readFindMatches(
  inventoryPath: string,
  server: string,
  request: { host: string; pattern: string; ignoreCase: boolean },
): Promise<FindReport> {
  const { inventory } = await keptInventory(inventoryPath).read();
  const target = hostTarget(inventory, resolveHost(inventory, request.host), server);
  try {
    return await findInSnapshots(
      target,
      request.pattern,
      request.ignoreCase,
      `${process.pid}-${randomUUID().slice(0, 8)}`,
    );
  } catch (error) {
    if (error instanceof TidemarkError) throw ApplicationFailure.nonRetryable(error.message, 'USAGE');
    throw error;
  }
}
