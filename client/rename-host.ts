// `tidemark rename-host OLD NEW [--server S]` on a backup server: the host's dataset is renamed with its
// snapshots (and their holds), the owner property follows, and the old name is recorded on the dataset so
// that `snapshots`/`history --host OLD` can say where it went. The schedules follow the inventory: the next
// `tidemark sync` deletes OLD's and makes NEW's. Refused while a backup of OLD runs or when NEW has a dataset.
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { resolveTemporal } from '../temporal/settings.js';
import type { Inventory } from '../inventory/schema.js';
import { connectClient } from '../temporal/connection.js';
import { datasetOwner, ownerProperty } from '../pool/owner.js';
import { renameDataset, renamedFromProperty } from '../pool/renamed.js';
import { datasetInfo, zfs } from '../pool/zfs.js';
import { refuseWhileRunning } from './decommission.js';

const hostName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function renameHost(
  inventory: Inventory,
  options: { old: string; new: string; server?: string },
): Promise<ExitCode> {
  for (const [field, name] of [
    ['OLD', options.old],
    ['NEW', options.new],
  ] as const)
    if (!hostName.test(name)) throw new TidemarkError('USAGE', `${field}: "${name}" is not a host name`);
  const server = await serverHolding(inventory, options.old, options.server);
  const base = inventory.servers[server]!.dataset;
  const from = `${base}/${options.old}`;
  const to = `${base}/${options.new}`;
  if (await datasetInfo(to))
    throw new TidemarkError('USAGE', `NEW: ${to} exists already; rename it away or decommission ${options.new} first`);
  const owner = await datasetOwner(from);
  if (owner !== options.old)
    throw new TidemarkError(
      'USAGE',
      `OLD: ${from} ${owner === undefined ? 'is not a Tidemark dataset (tidemark adopt-dataset takes one over)' : `belongs to host "${owner}"`}`,
    );
  const client = await connectClient(resolveTemporal(inventory));
  try {
    await refuseWhileRunning(client, { host: options.old, server }, 'rename');
  } finally {
    await client.connection.close();
  }
  await renameDataset(from, to);
  const earlier = (await zfs(['get', '-H', '-o', 'value', renamedFromProperty, to])).trim();
  const history = [...(earlier === '-' || earlier === '' ? [] : earlier.split(',')), options.old];
  // One property per `zfs set` (zfs-fuse takes no more).
  await zfs(['set', `${renamedFromProperty}=${history.join(',')}`, to]);
  await zfs(['set', `${ownerProperty}=${options.new}`, to]);
  console.log(`${from} is now ${to}, snapshots and holds included; it belongs to ${options.new}`);
  const inInventory = Object.hasOwn(inventory.hosts, options.new);
  console.log(
    `next: ${inInventory ? '' : `rename ${options.old} to ${options.new} in the inventory (or NetBox), then `}"tidemark sync" moves the schedule; runs before the rename stay in Temporal under TidemarkHost="${options.old}"`,
  );
  return ExitCode.ok;
}

/** `--server`, else the one server with a dataset for OLD on this machine. */
async function serverHolding(inventory: Inventory, old: string, chosen?: string): Promise<string> {
  if (chosen !== undefined) {
    if (!Object.hasOwn(inventory.servers, chosen))
      throw new TidemarkError('USAGE', `--server: "${chosen}" is not in the inventory's servers`);
    return chosen;
  }
  const here = [];
  for (const [name, entry] of Object.entries(inventory.servers))
    if (await datasetInfo(`${entry.dataset}/${old}`)) here.push(name);
  if (here.length === 1) return here[0]!;
  throw new TidemarkError(
    'USAGE',
    here.length === 0
      ? `OLD: no dataset of ${old} on this machine under any server's dataset`
      : `--server: ${old} has datasets of ${here.join(', ')} here; name one`,
  );
}
