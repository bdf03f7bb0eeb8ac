// The hosts Tidemark backs up: the YAML file's `hosts:` plus, when `netbox:` is set, the tagged NetBox
// objects. NetBox is trusted less than the file: a host the file defines takes nothing from NetBox
// unless `netbox.fillYamlHosts` is true (then NetBox fills only what the file leaves unset), and a
// NetBox-only host passes the same checks as a file's host, its problems naming the custom field.
import { netboxCustomFields, type NetboxAnswer } from './netbox.js';
import { readNetbox } from './netbox-reading.js';
import type { HostOrigin } from './groups.js';
import { hostEntry } from './resolve.js';
import { nameSchema, type HostEntry, type Inventory } from './schema.js';
import { fieldName, printable, problemLines, validateInventory, type InventoryProblem } from './validate.js';

export interface SourcedInventory {
  /** The YAML inventory with the NetBox hosts merged into `hosts`. */
  inventory: Inventory;
  /** Hosts skipped (invalid custom fields, bad names) and guesses made. */
  warnings: string[];
  /** How many hosts each source listed. */
  counts: { yaml: number; netbox: number };
  /** NetBox could not be asked: the kept answer served (a WARNING line with its age). */
  outage?: string[];
}

/**
 * The inventory plus NetBox's hosts; throws NetboxError when NetBox cannot be read (nothing is merged then).
 * By default NetBox is asked afresh and a failure throws (`sync` changes schedules from nothing less); with
 * `useKept` the process's shared answer or the kept one serves, its WARNING in `outage`.
 */
export async function loadHostSources(
  inventory: Inventory,
  env: NodeJS.ProcessEnv = process.env,
  options: { useKept?: boolean } = {},
): Promise<SourcedInventory> {
  if (!inventory.netbox)
    return { inventory, warnings: [], counts: { yaml: Object.keys(inventory.hosts).length, netbox: 0 } };
  const useKept = options.useKept === true;
  const reading = await readNetbox(inventory, { env, fresh: !useKept, useKept });
  const sourced = mergeNetboxHosts(inventory, reading.answer);
  return reading.warnings.length > 0 ? { ...sourced, outage: reading.warnings } : sourced;
}

/** The inventory field a NetBox custom field sets, back to the custom field's name. */
const customFieldOf: Record<string, string> = Object.fromEntries(
  Object.entries(netboxCustomFields).map(([custom, field]) => [field, custom]),
);

/** "backup_paths (paths.0)" for what a custom field set, else the inventory field. */
function netboxField(path: InventoryProblem['path']): string {
  const [top, host, field, ...rest] = path;
  if (top !== 'hosts' || host === undefined) return fieldName(path);
  if (field === undefined) return 'name';
  const inner = fieldName([field, ...rest]);
  const custom = customFieldOf[String(field)];
  return custom ? `${custom} (${inner})` : inner;
}

/** Validates one host entry with the inventory's servers and defaults; the problems, one line each, or the parsed entry. */
function validateHost(
  inventory: Inventory,
  name: string,
  entry: Record<string, unknown>,
): { ok: true; entry: HostEntry; origin?: HostOrigin } | { ok: false; problems: string[] } {
  const result = validateInventory({
    servers: inventory.servers,
    ...(inventory.defaults ? { defaults: inventory.defaults } : {}),
    ...(inventory.groups ? { groups: inventory.groups } : {}),
    hosts: { [name]: entry },
  });
  if (result.ok) {
    const parsed = hostEntry(result.inventory, name);
    const origin = result.inventory.hostOrigins?.[name.toLowerCase()];
    if (parsed) return { ok: true, entry: parsed, ...(origin ? { origin } : {}) };
    return { ok: false, problems: [`${printable(name)}: not a valid host name`] };
  }
  return { ok: false, problems: problemLines(result.problems, netboxField) };
}

/** Whether NetBox may fill the unset fields of a host the YAML file defines. */
export function fillsYamlHosts(inventory: Inventory): boolean {
  return inventory.netbox?.fillYamlHosts === true;
}

export function mergeNetboxHosts(inventory: Inventory, answer: NetboxAnswer): SourcedInventory {
  const warnings = [...answer.warnings];
  const hosts: Record<string, HostEntry> = { ...inventory.hosts };
  const hostOrigins: Record<string, HostOrigin> = { ...inventory.hostOrigins };
  /** Which NetBox object each name was taken from, for the message about a second object of that name. */
  const takenFrom = new Map<string, string>();
  for (const host of answer.hosts) {
    const shown = printable(host.name).replace(/^"(.*)"$/, '$1');
    const label = `${host.kind} ${shown}`;
    const object = `${host.kind} ${host.id}`;
    const first = takenFrom.get(host.name);
    if (first) {
      warnings.push(
        `netbox: ${label} (${object}) left out: ${first} has the same name and is backed up; rename one in NetBox to back up both`,
      );
      continue;
    }
    if (!nameSchema.safeParse(host.name).success) {
      warnings.push(
        `netbox: ${object} skipped: its name ${printable(host.name)} is not a host name (letters, digits, "-" and "."); rename it in NetBox`,
      );
      continue;
    }
    const yaml = hostEntry(inventory, host.name);
    if (yaml && !fillsYamlHosts(inventory)) {
      const ignored = Object.keys(customFieldOf)
        .filter((field) => field in host.entry)
        .map((field) => customFieldOf[field]);
      if (ignored.length > 0)
        warnings.push(
          `netbox: ${label}: ${ignored.join(', ')} ignored: the inventory file defines this host (set netbox.fillYamlHosts: true to let NetBox fill unset fields)`,
        );
      takenFrom.set(host.name, object);
      continue;
    }
    // The file's own fields (before its group was merged in): validateHost merges the group once more.
    const own = inventory.hostOrigins?.[host.name]?.own ?? yaml;
    const checked = validateHost(inventory, host.name, { ...host.entry, ...own });
    if (!checked.ok) {
      // Another object of the same name may still be valid: it is tried next.
      warnings.push(`netbox: ${label} skipped: ${checked.problems.join('; ')}`);
      continue;
    }
    hosts[host.name] = checked.entry;
    // What NetBox set, for `config check --explain` (the YAML's own fields win over it).
    const netboxFields = Object.keys(host.entry).filter((field) => own?.[field as keyof HostEntry] === undefined);
    hostOrigins[host.name] = { own: { ...host.entry, ...own }, ...checked.origin, netboxFields };
    takenFrom.set(host.name, object);
  }
  const netboxNames = new Set(answer.hosts.map((host) => host.name)).size;
  return {
    inventory: { ...inventory, hosts, hostOrigins },
    warnings,
    counts: { yaml: Object.keys(inventory.hosts).length, netbox: netboxNames },
  };
}

/**
 * The inventory as planBackup sees it for one run: the YAML file, plus NetBox's hosts read by this
 * worker itself when the host is not in the file (or `netbox.fillYamlHosts`). Nothing comes from the
 * run's input: a workflow input names the host, never its settings. NetBox trouble throws (retried).
 * inventory/host-lookup.ts is the same with the kept answer's WARNING and a reason for a missing host.
 */
export async function inventoryForRun(
  inventory: Inventory,
  host: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Inventory> {
  if (!needsNetbox(inventory, host)) return inventory;
  return mergeNetboxHosts(inventory, (await readNetbox(inventory, { env, useKept: false })).answer).inventory;
}

/** Whether resolving `host` asks NetBox: it is configured, and the file does not define the host alone. */
export function needsNetbox(inventory: Inventory, host: string): boolean {
  return inventory.netbox !== undefined && (!hostEntry(inventory, host) || fillsYamlHosts(inventory));
}
