// Changing a rig's inventory after it is made (workers read it at each backup), for settings that
// depend on the rig's own paths: hook and veto directories, the exclude file, the selection root.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { waitFor } from '../../devenv/process.js';
import { cliPath, type Rig } from './rig.js';

type Mapping = Record<string, unknown>;

/** Applies `change` to the parsed inventory and writes it back (workers read it at every backup). */
export function editInventory(rig: Pick<Rig, 'inventoryPath'>, change: (inventory: Record<string, any>) => void): void {
  const inventory = parse(readFileSync(rig.inventoryPath, 'utf8'));
  change(inventory);
  writeFileSync(rig.inventoryPath, stringify(inventory));
}

/** Sets (or, with undefined, removes) settings of the rig's host. */
export function setHostSettings(rig: Rig, settings: Mapping): void {
  editInventory(rig, (inventory) => {
    const host = inventory.hosts[rig.hostName]!;
    for (const [key, value] of Object.entries(settings)) {
      if (value === undefined) delete host[key];
      else host[key] = value;
    }
  });
}

/** A worker for another server of the rig's inventory (rig.startWorker only starts the rig's own). */
export async function startServerWorker(rig: Rig, server: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cliPath, '--config', rig.inventoryPath, 'worker', '--server', server], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(`worker for ${server}`, async () => output.includes('polling'), 30_000);
  return child;
}

/** Adds a second server `name` to the rig's inventory (a sibling dataset `<server dataset>b`, its own state
 * file); hosts without `servers` are then backed up on both. */
export function addSecondServer(rig: Pick<Rig, 'inventoryPath' | 'dir'>, name: string): void {
  editInventory(rig, (inventory) => {
    const [serverDataset] = Object.values(inventory.servers as Record<string, { dataset: string }>).map(
      (entry) => entry.dataset,
    );
    inventory.servers[name] = {
      dataset: `${serverDataset}b`,
      concurrency: 1,
      stateFile: join(rig.dir, 'state-b.json'),
    };
  });
}
