// `tidemark release --host vpn --snapshot NAME [--server S] [--json]`: end a `start-backup --keep` hold.
// The snapshot stays; retention treats it like any other from the next prune on.
import { releaseSnapshot } from '../pool/keep-hold.js';
import { listSnapshots } from '../pool/zfs.js';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import type { Inventory } from '../inventory/schema.js';
import { localTarget } from './local-target.js';

export interface ReleaseOptions {
  host: string;
  server?: string;
  /** Name after the "@" (a full `dataset@name` is accepted too). */
  snapshot: string;
  json?: boolean;
}

/** Exit 0 when the hold is gone (also when there was none), 2 when there is no such snapshot. */
export async function releaseKept(inventory: Inventory, options: ReleaseOptions): Promise<ExitCode> {
  const target = await localTarget(inventory, options.host, options.server);
  const [owner, after] = options.snapshot.includes('@')
    ? options.snapshot.split('@', 2)
    : [target.dataset, options.snapshot];
  const snapshots = target.exists ? await listSnapshots(target.dataset) : [];
  if (owner !== target.dataset || !snapshots.some((snapshot) => snapshot.name === after)) {
    throw new TidemarkError(
      'USAGE',
      `--snapshot: ${target.dataset} has no snapshot "${options.snapshot}"; list them with "tidemark snapshots --host ${target.host}"`,
    );
  }
  const snapshot = `${target.dataset}@${after}`;
  const result = await releaseSnapshot(snapshot);
  if (options.json) {
    console.log(
      JSON.stringify(
        { host: target.host, server: target.server, snapshot, ...result, reason: result.reason ?? null },
        null,
        2,
      ),
    );
    return ExitCode.ok;
  }
  if (result.released)
    console.log(
      `released ${snapshot}${result.reason !== undefined ? ` (kept for: ${result.reason})` : ''}; retention may prune it from now on`,
    );
  else console.log(`${snapshot} was not held by Tidemark; nothing to release`);
  if (result.holdsLeft > 0)
    console.log(
      `note: ${result.holdsLeft} other zfs hold(s) remain on it; zfs will not destroy it until they are released`,
    );
  return ExitCode.ok;
}
