// `tidemark adopt-dataset --host H [--server S] [--from DATASET] [--planb]`: take over an existing dataset on
// purpose (switching over from SOWN or PlanB, or a dataset made by hand). Backups refuse a dataset Tidemark
// did not create. --from moves a dataset kept elsewhere (PlanB's `<pool>/<group>-<name>`) to the host's
// place, snapshots and all; --planb takes over PlanB's layout (files under data/, canmount=noauto).
import { datasetOwner, ownerProperty } from '../pool/owner.js';
import { liftPlanbData, markPlanbSnapshots } from '../pool/planb-layout.js';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import type { Inventory } from '../inventory/schema.js';
import { datasetInfo, zfs } from '../pool/zfs.js';
import { renameDataset } from '../pool/renamed.js';
import { localTarget } from './local-target.js';

export interface AdoptOptions {
  host: string;
  server?: string;
  /** The dataset to move into the host's place first (`zfs rename`, snapshots included). */
  from?: string;
  /** The dataset is PlanB's: files under data/, canmount=noauto. */
  planb?: boolean;
}

export async function adoptDataset(inventory: Inventory, options: AdoptOptions): Promise<ExitCode> {
  const target = await localTarget(inventory, options.host, options.server);
  let exists = target.exists;
  if (options.from !== undefined && options.from !== target.dataset) {
    const from = await datasetInfo(options.from);
    // A rerun after the rename: the dataset already sits in the host's place.
    if (from && exists)
      throw new TidemarkError('USAGE', `--from: ${target.dataset} exists already; adopt one dataset per host`);
    if (!from && !exists) throw new TidemarkError('USAGE', `--from: ${options.from} does not exist on this machine`);
    if (from) {
      const parent = target.dataset.slice(0, target.dataset.lastIndexOf('/'));
      if (!(await datasetInfo(parent))) await zfs(['create', '-p', parent]);
      await renameDataset(options.from, target.dataset);
      console.log(`renamed ${options.from} to ${target.dataset} (its snapshots go with it)`);
      exists = true;
    }
  }
  if (!exists)
    throw new TidemarkError(
      'USAGE',
      `--host: ${target.dataset} does not exist on this machine; nothing to adopt (a backup creates it; --from DATASET moves one here)`,
    );
  const owner = await datasetOwner(target.dataset);
  if (owner !== undefined && owner !== target.host) {
    throw new TidemarkError(
      'USAGE',
      `--host: ${target.dataset} belongs to host "${owner}"; fix the inventory or run "zfs inherit ${ownerProperty} ${target.dataset}" first if that is wrong`,
    );
  }
  const mountpoint = (await zfs(['get', '-H', '-o', 'value', 'mountpoint', target.dataset])).trim();
  if (mountpoint === '/' || !mountpoint.startsWith('/')) {
    throw new TidemarkError(
      'USAGE',
      `--host: ${target.dataset} is mounted at "${mountpoint}"; a backup is never written there (zfs set mountpoint=/PATH ${target.dataset})`,
    );
  }
  // Owned already: an earlier adoption finished (the owner is set last), so there is nothing left to move.
  if (options.planb && owner === undefined) await adoptPlanbLayout(target.dataset, mountpoint);
  await zfs(['set', `${ownerProperty}=${target.host}`, target.dataset]);
  console.log(
    `${target.dataset} now belongs to ${target.host}: the next backup on ${target.server} writes into it (setuid, devices and exec are turned off then)`,
  );
  const system = options.planb ? 'planb' : 'sown';
  if (!target.adopt[system])
    console.log(
      `retention leaves its ${options.planb ? 'PlanB' : 'SOWN'} snapshots alone (foreign) until servers.${target.server}.adopt.${system} is true`,
    );
  return ExitCode.ok;
}

/** PlanB mounts its datasets only while working (canmount=noauto): Tidemark keeps them mounted. The existing
 * snapshots are marked as holding their files under data/, then the live files move up to the root. */
async function adoptPlanbLayout(dataset: string, mountpoint: string): Promise<void> {
  const marked = await markPlanbSnapshots(dataset);
  await zfs(['set', 'canmount=on', dataset]);
  const info = await datasetInfo(dataset);
  if (!info?.mounted) await zfs(['mount', dataset]);
  const { moved } = await liftPlanbData(mountpoint);
  console.log(
    `PlanB layout taken over: ${marked} snapshots read from their data/ directory, ${moved} entries of data/ moved up to ${mountpoint}`,
  );
}
