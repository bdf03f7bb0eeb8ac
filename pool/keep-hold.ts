// Holds that keep a snapshot until an operator releases it (`--keep REASON`, `tidemark release`).
// zfs-fuse's `zfs holds` is broken, so the reason lives in a user property and the count in `userrefs`.
import { keepHoldTag, keepReasonProperty } from '../domain/keep.js';
import { zfs } from './zfs.js';

/** Holds `dataset@name` with the keep tag and records the reason; idempotent. `held`: false when it already was. */
export async function holdSnapshot(snapshot: string, reason: string): Promise<{ held: boolean }> {
  await zfs(['set', `${keepReasonProperty}=${reason}`, snapshot]);
  try {
    await zfs(['hold', keepHoldTag, snapshot]);
    return { held: true };
  } catch (error) {
    if (/tag already exists/.test((error as Error).message)) return { held: false };
    throw error;
  }
}

export interface ReleasedSnapshot {
  /** False when the snapshot did not carry Tidemark's keep hold. */
  released: boolean;
  /** The reason it was kept, if one was recorded. */
  reason?: string;
  /** Holds left after the release (other tags than Tidemark's). */
  holdsLeft: number;
}

/** Releases the keep hold and clears the reason; idempotent. Throws when the snapshot does not exist. */
export async function releaseSnapshot(snapshot: string): Promise<ReleasedSnapshot> {
  const reason = (await keepReasons(snapshot)).get(snapshot.split('@')[1] ?? '');
  let released = true;
  try {
    await zfs(['release', keepHoldTag, snapshot]);
  } catch (error) {
    if (!/no such tag/.test((error as Error).message)) throw error;
    released = false;
  }
  if (reason !== undefined) await zfs(['inherit', keepReasonProperty, snapshot]);
  const holdsLeft = Number((await zfs(['get', '-H', '-p', '-o', 'value', 'userrefs', snapshot])).trim());
  return { released, ...(reason !== undefined ? { reason } : {}), holdsLeft };
}

/** Keep reasons by snapshot name (after the "@") for every snapshot of `datasetOrSnapshot` that has one. */
export async function keepReasons(datasetOrSnapshot: string): Promise<Map<string, string>> {
  const recursive = datasetOrSnapshot.includes('@') ? [] : ['-r', '-d', '1'];
  const output = await zfs([
    'get',
    '-H',
    ...recursive,
    '-o',
    'name,value,source',
    keepReasonProperty,
    datasetOrSnapshot,
  ]);
  const reasons = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [name = '', value = '', source = ''] = line.split('\t');
    const snapshot = name.split('@')[1];
    if (snapshot !== undefined && source === 'local') reasons.set(snapshot, value);
  }
  return reasons;
}
