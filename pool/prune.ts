// Retention's side effect on the pool: destroy the snapshots a retention plan names, and
// only those, each after a fresh safety check (defence in depth against a stale or wrong plan).
//
// The check (checkDestroySafety: newest complete, newer anomalies within the cap, held, foreign,
// backup outcome) runs
//  1. against a full fresh listing when the attempt starts (a retried attempt starts over), and
//  2. right before each destroy, against freshly read properties of that snapshot and of its anchors
//     (safetyAnchors: the newest complete one and, for an anomaly over the cap, the anomalies newer
//     than it that fill the cap: the only other snapshots those rules look at); if one of them has
//     vanished meanwhile, against a new full listing.
// zfs itself refuses to destroy held snapshots, which closes the last gap (a hold placed after step 2).
// Idempotent: a planned snapshot that is already gone counts as pruned.
// A replication base (the last snapshot common with another backup server, pool/replication.ts) is never
// destroyed: the next incremental send starts from it.
import {
  checkDestroySafety,
  safetyAnchors,
  type RetentionPlan,
  type RetentionSnapshot,
  type SafetyContext,
} from '../domain/retention.js';
import { replicationBases } from './replication.js';
import { getExisting, listSnapshots, zfs } from './zfs.js';

export interface PruneRequest {
  /** `<server dataset>/<host>` */
  dataset: string;
  /** The workflow's plan; only `plan.destroy` is acted on, the verdicts are there for the record (history, UI). */
  plan: RetentionPlan;
  safety: SafetyContext;
}

export interface PruneResult {
  /** Destroyed by this attempt, in plan order. */
  destroyed: string[];
  /** Planned but no longer there (an earlier attempt, or someone else, removed them). */
  alreadyGone: string[];
  /** Planned but left in place: what the fresh check or zfs said. */
  refused: Array<{ name: string; reasons: string[] }>;
}

/** The prune activity's work (activities/prune.ts adds the heartbeat); the CLI's `tidemark prune` calls it directly. */
export async function destroyPlanned(
  request: PruneRequest,
  onProgress?: (done: number, total: number) => void,
  /** A full listing this same attempt read moments ago (saves reading it again). */
  listed?: readonly RetentionSnapshot[],
): Promise<PruneResult> {
  const { dataset, safety } = request;
  const result: PruneResult = { destroyed: [], alreadyGone: [], refused: [] };
  let listing = toRetention(listed ?? (await listSnapshots(dataset)));
  const total = request.plan.destroy.length;
  const bases = total > 0 ? await replicationBases(dataset) : new Map<string, string>();
  for (const [index, name] of request.plan.destroy.entries()) {
    onProgress?.(index, total);
    const peers = [...bases].filter(([, base]) => base === name).map(([peer]) => peer);
    if (peers.length > 0) {
      result.refused.push({ name, reasons: [`replication base with ${peers.join(', ')}`] });
      continue;
    }
    let reasons = checkDestroySafety(name, listing, safety);
    if (reasons.length === 0) {
      const anchors = safetyAnchors(name, listing, safety);
      const fresh = await readSnapshots(dataset, [name, ...anchors]);
      if (anchors.some((anchor) => !fresh.some((snapshot) => snapshot.name === anchor))) {
        listing = toRetention(await listSnapshots(dataset));
        reasons = checkDestroySafety(name, listing, safety);
      } else {
        reasons = checkDestroySafety(name, fresh, safety);
      }
    }
    if (reasons.length === 1 && reasons[0] === 'not found') {
      result.alreadyGone.push(name);
      continue;
    }
    if (reasons.length > 0) {
      result.refused.push({ name, reasons });
      continue;
    }
    try {
      await zfs(['destroy', `${dataset}@${name}`]);
      result.destroyed.push(name);
    } catch (error) {
      const message = (error as Error).message;
      if (/does not exist/.test(message)) result.alreadyGone.push(name);
      // Busy (held or cloned) and the like: zfs keeps it, and so does the next plan unless it changes.
      else result.refused.push({ name, reasons: [`zfs: ${message.replace(/^zfs [^:]*: /, '')}`] });
    }
    listing = listing.filter((snapshot) => snapshot.name !== name);
  }
  onProgress?.(total, total);
  return result;
}

function toRetention(snapshots: readonly { name: string; createdAt: number; holds: number }[]): RetentionSnapshot[] {
  return snapshots.map(({ name, createdAt, holds }) => ({ name, createdAt, holds }));
}

/** Creation and holds of the named snapshots of `dataset` that exist (one zfs call). */
async function readSnapshots(dataset: string, names: string[]): Promise<RetentionSnapshot[]> {
  const byName = new Map<string, RetentionSnapshot>();
  const targets = names.map((name) => `${dataset}@${name}`);
  for (const { name: fullName, property, value } of await getExisting(targets, ['creation', 'userrefs'])) {
    const [owner, name] = fullName.split('@');
    if (owner !== dataset || name === undefined) continue;
    const snapshot = byName.get(name) ?? { name, createdAt: 0, holds: Number.NaN };
    if (property === 'creation') snapshot.createdAt = Number(value);
    if (property === 'userrefs') snapshot.holds = Number(value);
    byName.set(name, snapshot);
  }
  return [...byName.values()];
}
