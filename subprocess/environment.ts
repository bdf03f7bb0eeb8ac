// The environment of the rsync and ssh processes the worker starts: the worker's own, minus what could
// change how rsync hands paths to the host's shell, and minus secrets (a child has no use for them, and
// whatever a child sees can end up in its error output, a core dump or /proc/<pid>/environ).
import type { Inventory } from '../inventory/schema.js';

/** rsync reads these to fall back to shell-interpreted arguments (RSYNC_OLD_ARGS) or to change how
 * arguments travel (RSYNC_PROTECT_ARGS): Tidemark sets that explicitly on the command line instead. */
const rsyncArgumentVariables = new Set(['RSYNC_OLD_ARGS', 'RSYNC_PROTECT_ARGS']);

/** Names that say "secret" whatever the inventory says. */
const secretName = /TOKEN|PASSWORD|SECRET|API_KEY/i;

/** Variables the inventory names as holding secrets (netbox.tokenEnv), as of the last inventory read. */
const inventorySecretVariables = new Set<string>();

/** Notes the variables `inventory` keeps secrets in; called whenever the worker reads its inventory. */
export function noteSecretVariables(inventory: Pick<Inventory, 'netbox'>): void {
  if (inventory.netbox?.tokenEnv) inventorySecretVariables.add(inventory.netbox.tokenEnv);
}

/** A copy of `env` for an rsync or ssh child (pass it with `extendEnv: false`, or execa merges process.env back in). */
export function rsyncEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  secretVariables: Iterable<string> = inventorySecretVariables,
): Record<string, string> {
  const named = new Set(secretVariables);
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || rsyncArgumentVariables.has(name) || named.has(name) || secretName.test(name)) continue;
    copy[name] = value;
  }
  return copy;
}
