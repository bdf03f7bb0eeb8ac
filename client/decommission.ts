// `tidemark decommission --host H [--server S]`: retire a host's backups on this backup server. Takes a
// final held snapshot, deletes the host's schedule for that server and marks the dataset; `status` then
// lists it as decommissioned. `--destroy --yes-destroy-all-snapshots` removes the dataset with every
// snapshot, but only once the mark is older than the grace period.
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { holdSnapshot, releaseSnapshot } from '../pool/keep-hold.js';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { backupWorkflowId, hostDataset, snapshotName } from '../domain/names.js';
import { resolveTemporal } from '../temporal/settings.js';
import type { Inventory } from '../inventory/schema.js';
import { NetboxError } from '../inventory/netbox.js';
import { loadHostSources } from '../inventory/sources.js';
import { decommissionGraceMs, decommissionedProperty } from '../pool/decommission-mark.js';
import { ownerProperty } from '../pool/owner.js';
import { datasetInfo, listSnapshots, zfs } from '../pool/zfs.js';
import { backupScheduleId } from '../schedule/desired.js';
import { ownerOf } from '../schedule/reconcile.js';
import { hostServerPairs } from '../fleet/pairs.js';
import { connectClient } from '../temporal/connection.js';

const graceText = `${decommissionGraceMs / 86_400_000} days`;

export interface DecommissionOptions {
  host: string;
  server?: string;
  destroy?: boolean;
  yesDestroyAllSnapshots?: boolean;
}

interface Target {
  host: string;
  server: string;
  dataset: string;
  /** The mark's value when the dataset is already decommissioned. */
  markedAt?: string;
}

export async function decommission(inventory: Inventory, options: DecommissionOptions): Promise<ExitCode> {
  if (options.yesDestroyAllSnapshots && !options.destroy) {
    throw new TidemarkError('USAGE', '--yes-destroy-all-snapshots only goes with --destroy');
  }
  const target = await localDataset(inventory, options.host, options.server);
  let stillBackedUp: boolean | 'unknown';
  try {
    const { inventory: merged } = await loadHostSources(inventory);
    stillBackedUp = hostServerPairs(merged, target.server).some((pair) => pair.host === target.host);
  } catch (error) {
    // Retiring goes on without NetBox (it only advises); destroying does not (it is a guard).
    if (!(error instanceof NetboxError) || options.destroy) throw error;
    console.error(`tidemark: WARNING: ${error.message}; cannot tell whether NetBox still lists ${target.host}`);
    stillBackedUp = 'unknown';
  }
  return options.destroy ? destroy(target, options, stillBackedUp) : retire(inventory, target, stillBackedUp);
}

/** The host's dataset under `--server`'s dataset, else under the one server whose dataset holds it here. */
async function localDataset(inventory: Inventory, host: string, server: string | undefined): Promise<Target> {
  // The name becomes part of a dataset path: a "/", "@" or ".." would point somewhere else.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(host) || host.includes('..')) {
    throw new TidemarkError('USAGE', `--host: "${host}" is not a host name (letters, digits, ".", "_", "-")`);
  }
  if (server !== undefined && !inventory.servers[server]) {
    throw new TidemarkError(
      'USAGE',
      `--server: "${server}" is not under "servers" (known: ${Object.keys(inventory.servers).join(', ')})`,
    );
  }
  const candidates = (server ? [server] : Object.keys(inventory.servers)).map((name) => ({
    server: name,
    dataset: hostDataset(inventory.servers[name]!.dataset, host),
  }));
  const present = [];
  for (const candidate of candidates) if (await datasetInfo(candidate.dataset)) present.push(candidate);
  if (present.length === 0) {
    throw new TidemarkError(
      'USAGE',
      `--host: no dataset of "${host}" on this machine (looked for ${candidates.map((entry) => entry.dataset).join(', ')}); run this on the backup server that holds it`,
    );
  }
  if (present.length > 1) {
    throw new TidemarkError(
      'USAGE',
      `--server: ${present.map((entry) => entry.dataset).join(' and ')} are both here; name one with --server (${present.map((entry) => entry.server).join(', ')})`,
    );
  }
  const chosen = present[0]!;
  const properties = await localProperties(chosen.dataset, [ownerProperty, decommissionedProperty]);
  // Only datasets Tidemark made (or adopted) for this host: never another host's, never a hand-made one.
  if (properties.get(ownerProperty) !== host) {
    const owner = properties.get(ownerProperty);
    throw new TidemarkError(
      'USAGE',
      `--host: ${chosen.dataset} ${owner === undefined ? `has no ${ownerProperty} mark; Tidemark did not create it` : `belongs to host "${owner}"`}; nothing was changed`,
    );
  }
  const markedAt = properties.get(decommissionedProperty);
  return { host, server: chosen.server, dataset: chosen.dataset, ...(markedAt !== undefined ? { markedAt } : {}) };
}

async function localProperties(dataset: string, names: string[]): Promise<Map<string, string>> {
  const output = await zfs(['get', '-H', '-o', 'property,value,source', names.join(','), dataset]);
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [property = '', value = '', source = ''] = line.split('\t');
    if (source === 'local') values.set(property, value);
  }
  return values;
}

/** Final snapshot, held; schedule deleted; dataset marked. Safe to repeat (one final snapshot only). */
async function retire(inventory: Inventory, target: Target, stillBackedUp: boolean | 'unknown'): Promise<ExitCode> {
  const client = await connectClient(resolveTemporal(inventory));
  let scheduleDeleted: boolean;
  try {
    // A backup writing into the dataset would land after the "final" snapshot.
    await refuseWhileRunning(client, target, 'decommission');
    scheduleDeleted = await deleteSchedule(client, target);
  } finally {
    await client.connection.close();
  }
  console.log(
    `${target.host}@${target.server}: ${scheduleDeleted ? `deleted schedule ${backupScheduleId(target.host, target.server)}` : 'no Tidemark schedule to delete'}`,
  );
  if (target.markedAt !== undefined) {
    console.log(
      `${target.dataset} was already decommissioned at ${target.markedAt}; its final snapshot stays as it is`,
    );
  } else {
    const now = new Date();
    const snapshot = `${target.dataset}@${snapshotName(now)}`;
    await zfs(['snapshot', snapshot]);
    await holdSnapshot(snapshot, `decommissioned ${now.toISOString().slice(0, 10)}`);
    // The mark last: a dataset marked decommissioned always has its held final snapshot.
    await zfs(['set', `${decommissionedProperty}=${now.toISOString()}`, target.dataset]);
    console.log(
      `${target.dataset}: final snapshot ${snapshot} (held), marked ${decommissionedProperty}=${now.toISOString()}`,
    );
    console.log(
      `"tidemark decommission --host ${target.host} --server ${target.server} --destroy --yes-destroy-all-snapshots" removes it from ${new Date(now.getTime() + decommissionGraceMs).toISOString()} on`,
    );
  }
  if (stillBackedUp !== false) {
    console.log(
      `WARNING: ${target.host} ${stillBackedUp === 'unknown' ? 'may still be' : 'is still'} in the inventory for ${target.server}: remove ${target.host} from the inventory (or its NetBox tag) too, or the next "tidemark sync" re-creates the schedule`,
    );
  }
  return ExitCode.ok;
}

/** Refuses (ALREADY_RUNNING) while a backup of the pair runs; `then` names what to run once it has ended. */
export async function refuseWhileRunning(
  client: Client,
  target: { host: string; server: string },
  then: string,
): Promise<void> {
  try {
    const running = await client.workflow.getHandle(backupWorkflowId(target.host, target.server)).describe();
    if (running.status.name === 'RUNNING') {
      throw new TidemarkError(
        'ALREADY_RUNNING',
        `a backup of ${target.host} on ${target.server} is running; wait for it or "tidemark cancel-backup --host ${target.host} --server ${target.server}", then ${then}`,
      );
    }
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

/** Deletes the pair's schedule when Tidemark owns it; false when there was none. */
async function deleteSchedule(client: Client, target: Target): Promise<boolean> {
  const handle = client.schedule.getHandle(backupScheduleId(target.host, target.server));
  try {
    if (!ownerOf((await handle.describe()).memo)) return false;
    await handle.delete();
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}

/** Removes the dataset with all its snapshots; every condition that is not met is a refusal. */
async function destroy(
  target: Target,
  options: DecommissionOptions,
  stillBackedUp: boolean | 'unknown',
): Promise<ExitCode> {
  const command = `tidemark decommission --host ${target.host} --server ${target.server}`;
  if (!options.yesDestroyAllSnapshots) {
    throw new TidemarkError(
      'USAGE',
      `--destroy deletes ${target.dataset} with every snapshot; add --yes-destroy-all-snapshots to mean it`,
    );
  }
  if (target.markedAt === undefined) {
    throw new TidemarkError(
      'USAGE',
      `--destroy: ${target.dataset} is not decommissioned; run "${command}" first, then wait ${graceText}`,
    );
  }
  const markedMs = Date.parse(target.markedAt);
  if (Number.isNaN(markedMs)) {
    throw new TidemarkError(
      'USAGE',
      `--destroy: ${decommissionedProperty} of ${target.dataset} is "${target.markedAt}", not a time; nothing was destroyed (set it with "${command}" again after "zfs inherit ${decommissionedProperty} ${target.dataset}")`,
    );
  }
  const ageMs = Date.now() - markedMs;
  if (ageMs < decommissionGraceMs) {
    throw new TidemarkError(
      'USAGE',
      `--destroy: ${target.dataset} was decommissioned at ${target.markedAt}, within the grace period of ${graceText}; it can be destroyed from ${new Date(markedMs + decommissionGraceMs).toISOString()} on; nothing was destroyed`,
    );
  }
  if (stillBackedUp !== false) {
    throw new TidemarkError(
      'USAGE',
      `--destroy: ${target.host} is still in the inventory for ${target.server}; remove it from the inventory (or its NetBox tag) and run "tidemark sync" first; nothing was destroyed`,
    );
  }
  const snapshots = await listSnapshots(target.dataset);
  for (const snapshot of snapshots) {
    if (snapshot.holds === 0) continue;
    const { holdsLeft } = await releaseSnapshot(`${target.dataset}@${snapshot.name}`);
    // Another tag (a restore reading it, an operator's own hold) is not Tidemark's to drop.
    if (holdsLeft > 0) {
      throw new TidemarkError(
        'USAGE',
        `--destroy: ${target.dataset}@${snapshot.name} has ${holdsLeft} zfs hold(s) other than Tidemark's (a restore running?); release them and repeat; nothing was destroyed (Tidemark's own holds were released)`,
      );
    }
  }
  await destroyWhenIdle(target.dataset);
  console.log(
    `destroyed ${target.dataset} with ${snapshots.length} snapshot(s) (decommissioned at ${target.markedAt})`,
  );
  return ExitCode.ok;
}

/** zfs-fuse keeps a just-read dataset busy for a moment: retry briefly; a lasting "busy" is someone in it. */
async function destroyWhenIdle(dataset: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await zfs(['destroy', '-r', dataset]);
      return;
    } catch (error) {
      if (!/busy/.test((error as Error).message)) throw error;
      if (attempt >= 40) {
        throw new TidemarkError(
          'USAGE',
          `--destroy: ${dataset} stays busy (a process in its mount point?); stop it and repeat (the mark stays, so the repeat is allowed): ${(error as Error).message}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
