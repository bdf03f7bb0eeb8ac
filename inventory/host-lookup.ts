// One host resolution for every verb and the worker: the YAML file, then NetBox (through the process's shared
// answer, or the kept one during an outage), merged by inventory/sources.ts's rules. A host that is in
// neither gets a reason when NetBox can give one: its object lost the tag, was renamed (same id, new name)
// or deleted, or its custom fields do not validate.
import { TidemarkError } from '../domain/errors.js';
import { lookUpNetboxObjects, resolveNetboxConfig, type NetboxHost } from './netbox.js';
import { answerSource, keptAnswerFile, readKeptAnswer } from './netbox-kept-answer.js';
import { readNetbox, type NetboxReadOptions } from './netbox-reading.js';
import { hostEntry, resolveHost } from './resolve.js';
import type { Inventory } from './schema.js';
import { mergeNetboxHosts, needsNetbox } from './sources.js';
import { printable } from './validate.js';

/** A name as typed, control characters escaped, without printable's quotes. */
const shown = (name: string) => printable(name).replace(/^"(.*)"$/, '$1');

export interface HostInventory {
  /** The inventory with the host's NetBox entry merged in (when NetBox has it). */
  inventory: Inventory;
  /** The kept answer stood in for NetBox (its age), and what NetBox said of this host. */
  warnings: string[];
}

/** The inventory in which `hosts` resolve; throws a TidemarkError saying why one cannot (NetboxError when
 * NetBox cannot be asked and no usable answer is kept). */
export async function inventoryWithHosts(
  inventory: Inventory,
  hosts: readonly string[],
  options: Pick<NetboxReadOptions, 'env' | 'server'> = {},
): Promise<HostInventory> {
  const wanted = hosts.filter((host) => needsNetbox(inventory, host));
  if (wanted.length === 0) return { inventory, warnings: [] };
  const reading = await readNetbox(inventory, options);
  const merged = mergeNetboxHosts(inventory, reading.answer);
  const warnings = [...reading.warnings];
  for (const host of wanted) {
    const about = merged.warnings.filter((line) => mentions(line, host.toLowerCase()));
    if (hostEntry(merged.inventory, host)) warnings.push(...about);
    else throw await missingHost(inventory, merged.inventory, host, about, reading.warnings.length > 0, options);
  }
  return { inventory: merged.inventory, warnings };
}

/** Whether a merge warning ("netbox: device vpn skipped: ...") is about this host. */
function mentions(line: string, host: string): boolean {
  return line.startsWith(`netbox: device ${host} `) || line.startsWith(`netbox: virtual-machine ${host} `);
}

async function missingHost(
  inventory: Inventory,
  merged: Inventory,
  host: string,
  about: string[],
  outage: boolean,
  options: Pick<NetboxReadOptions, 'env' | 'server'>,
): Promise<TidemarkError> {
  const name = host.toLowerCase();
  const netbox = resolveNetboxConfig(inventory.netbox!);
  const skipped = about.find((line) => / skipped: /.test(line));
  if (skipped)
    return new TidemarkError(
      'CONFIG_INVALID',
      `--host ${shown(name)}: NetBox's entry does not validate (${skipped.replace(/^netbox: /, '')}); fix the custom field in NetBox`,
    );
  const reason = outage ? undefined : await netboxReason(inventory, name, options).catch(() => undefined);
  if (reason) return new TidemarkError('UNKNOWN_HOST', `--host ${shown(name)}: ${reason}`);
  try {
    resolveHost(merged, host);
  } catch (error) {
    if (error instanceof TidemarkError)
      return new TidemarkError(
        error.code,
        `${error.message}; NetBox (${netbox.url}) has no object of that name tagged "${netbox.tag}"${outage ? ' in its kept answer' : ''}`,
      );
    throw error;
  }
  return new TidemarkError('UNKNOWN_HOST', `--host ${shown(name)}: not found`);
}

const kindText: Record<NetboxHost['kind'], string> = { device: 'device', 'virtual-machine': 'virtual machine' };

/** What NetBox says of a name it does not list as tagged: untagged, renamed, deleted; undefined: nothing. */
async function netboxReason(
  inventory: Inventory,
  name: string,
  options: Pick<NetboxReadOptions, 'env' | 'server'>,
): Promise<string | undefined> {
  const config = resolveNetboxConfig(inventory.netbox!);
  const kept = await readKeptAnswer(keptAnswerFile(inventory, options.server), answerSource(config));
  const known = kept?.formerly[name] ?? [];
  const found = await lookUpNetboxObjects(config, { name, known }, options.env);
  const tagHint = `the tag "${config.tag}" (netbox.tag)`;
  for (const { kind, id, now } of found.byId) {
    const object = `NetBox ${kindText[kind]} ${id}`;
    if (!now)
      return `${object}, which was "${name}", is gone from NetBox (deleted); its backups stay until "tidemark decommission --host ${name}"`;
    if (now.name.toLowerCase() !== name)
      return `${object} was renamed from "${name}" to "${now.name}" in NetBox; use --host ${now.name.toLowerCase()}${now.tagged ? '' : ` (and tag it with ${tagHint})`}; the backups made under the old name stay under it`;
    if (!now.tagged)
      return `${object} "${now.name}" no longer carries ${tagHint}: tag it again in NetBox to back it up`;
  }
  const untagged = found.byName.find((object) => !object.tagged);
  if (untagged)
    return `NetBox ${kindText[untagged.kind]} ${untagged.id} "${untagged.name}" does not carry ${tagHint}: tag it in NetBox to back it up`;
  return undefined;
}
