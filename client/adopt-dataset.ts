// `tidemark adopt-dataset --host H [--server S]`: take over an existing dataset on purpose (switching
// over from SOWN or PlanB, or a dataset made by hand). Backups refuse a dataset Tidemark did not create.
import { ownerProperty } from '../pool/owner.js';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import type { Inventory } from '../inventory/schema.js';
import { zfs } from '../pool/zfs.js';
import { localTarget } from './snapshots.js';

export async function adoptDataset(
  inventory: Inventory,
  options: { host: string; server?: string },
): Promise<ExitCode> {
  const target = await localTarget(inventory, options.host, options.server);
  if (!target.exists)
    throw new TidemarkError(
      'USAGE',
      `--host: ${target.dataset} does not exist on this machine; nothing to adopt (a backup creates it)`,
    );
  const [value = '-', source = ''] = (await zfs(['get', '-H', '-o', 'value,source', ownerProperty, target.dataset]))
    .trim()
    .split('\t');
  if (source === 'local' && value !== target.host) {
    throw new TidemarkError(
      'USAGE',
      `--host: ${target.dataset} belongs to host "${value}"; fix the inventory or run "zfs inherit ${ownerProperty} ${target.dataset}" first if that is wrong`,
    );
  }
  const mountpoint = (await zfs(['get', '-H', '-o', 'value', 'mountpoint', target.dataset])).trim();
  if (mountpoint === '/' || !mountpoint.startsWith('/')) {
    throw new TidemarkError(
      'USAGE',
      `--host: ${target.dataset} is mounted at "${mountpoint}"; a backup is never written there (zfs set mountpoint=/PATH ${target.dataset})`,
    );
  }
  await zfs(['set', `${ownerProperty}=${target.host}`, target.dataset]);
  console.log(
    `${target.dataset} now belongs to ${target.host}: the next backup on ${target.server} writes into it (setuid, devices and exec are turned off then)`,
  );
  return ExitCode.ok;
}
