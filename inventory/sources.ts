// The hosts Tidemark backs up: the YAML file's `hosts:` plus, when `netbox:` is set, the tagged NetBox
// objects. A `hosts:` entry of the same name wins field by field over NetBox's (address, custom fields).
import { TidemarkError } from '../domain/errors.js';
import { fetchNetboxHosts, resolveNetboxConfig, type NetboxAnswer } from './netbox.js';
import { inventorySchema, type HostEntry, type Inventory } from './schema.js';

export interface SourcedInventory {
  /** The YAML inventory with the NetBox hosts merged into `hosts`. */
  inventory: Inventory;
  /** Per host, the settings NetBox contributed (scheduled runs carry them to planBackup; no secrets). */
  sourced: Map<string, Record<string, unknown>>;
  /** Hosts skipped (invalid custom fields, bad names) and guesses made. */
  warnings: string[];
  /** How many hosts each source listed. */
  counts: { yaml: number; netbox: number };
}

/** The inventory plus NetBox's hosts; throws NetboxError when NetBox cannot be read (nothing is merged then). */
export async function loadHostSources(inventory: Inventory, env: NodeJS.ProcessEnv = process.env): Promise<SourcedInventory> {
  if (!inventory.netbox) return { inventory, sourced: new Map(), warnings: [], counts: { yaml: Object.keys(inventory.hosts).length, netbox: 0 } };
  const answer = await fetchNetboxHosts(resolveNetboxConfig(inventory.netbox), env);
  return mergeNetboxHosts(inventory, answer);
}

/** Validates one host entry against the inventory's servers; the problems, one line each, or the parsed entry. */
function validateHost(inventory: Inventory, name: string, entry: Record<string, unknown>): { ok: true; entry: HostEntry } | { ok: false; problems: string[] } {
  const result = inventorySchema.safeParse({ servers: inventory.servers, hosts: { [name]: entry } });
  if (result.success) {
    const parsed = result.data.hosts[name];
    if (parsed) return { ok: true, entry: parsed };
  }
  const issues = result.success ? [] : result.error.issues;
  return {
    ok: false,
    problems: issues.length > 0 ? issues.map((issue) => `${issue.path.slice(2).map(String).join('.') || name}: ${issue.message.replace(/^Invalid input: /, '')}`) : [`${name}: not a valid host name`],
  };
}

export function mergeNetboxHosts(inventory: Inventory, answer: NetboxAnswer): SourcedInventory {
  const warnings = [...answer.warnings];
  const hosts: Record<string, HostEntry> = { ...inventory.hosts };
  const sourced = new Map<string, Record<string, unknown>>();
  for (const host of answer.hosts) {
    const merged = { ...host.entry, ...inventory.hosts[host.name] };
    const checked = validateHost(inventory, host.name, merged);
    if (!checked.ok) {
      warnings.push(`netbox: ${host.kind} ${host.name} skipped: ${checked.problems.join('; ')}`);
      continue;
    }
    hosts[host.name] = checked.entry;
    sourced.set(host.name, host.entry);
  }
  return { inventory: { ...inventory, hosts }, sourced, warnings, counts: { yaml: Object.keys(inventory.hosts).length, netbox: answer.hosts.length } };
}

/** The inventory as planBackup sees it for one run: the YAML file plus the host's settings as of the last sync. */
export function withSourcedHost(inventory: Inventory, host: string, sourced: Record<string, unknown> | undefined): Inventory {
  if (!sourced) return inventory;
  const checked = validateHost(inventory, host, { ...sourced, ...inventory.hosts[host] });
  if (!checked.ok) throw new TidemarkError('CONFIG_INVALID', `host ${host} (from NetBox): ${checked.problems.join('; ')}`);
  return { ...inventory, hosts: { ...inventory.hosts, [host]: checked.entry } };
}
