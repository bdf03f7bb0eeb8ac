// Step 2, on the backup server: make sure `<dataset>/<host>` exists and is mounted; never touch data.
import { ApplicationFailure } from '@temporalio/activity';
import { datasetInfo, zfs } from './zfs.js';

export interface EnsuredDataset {
  mountpoint: string;
  created: boolean;
}

/** Creates the dataset (and parents) when missing, mounts it when unmounted; idempotent. */
export async function ensureDataset(dataset: string, host: string): Promise<EnsuredDataset> {
  let info = await datasetInfo(dataset);
  const created = info === undefined;
  if (created) {
    await zfs(['create', '-p', '-o', `tidemark:host=${host}`, dataset]);
    info = await datasetInfo(dataset);
  }
  if (!info) throw new Error(`dataset ${dataset} is missing right after zfs create`);
  if (!info.mountpoint.startsWith('/')) {
    throw ApplicationFailure.nonRetryable(
      `dataset ${dataset} has mountpoint "${info.mountpoint}"; set one with: zfs set mountpoint=/PATH ${dataset}`,
      'DatasetNotMountable',
    );
  }
  if (!info.mounted) await zfs(['mount', dataset]);
  return { mountpoint: info.mountpoint, created };
}
