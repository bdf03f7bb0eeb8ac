// Inventory fields that still work but have a new spelling: each gets a WARNING naming the new field. Read by
// loadInventory (stderr) and `config check` (its output), so an old inventory keeps working while it is fixed.
import { resolveTimeZones } from './resolve.js';
import type { Inventory } from './schema.js';

/** One line per deprecated field in use, naming where it is and what to write instead, and one per host
 * whose retention and schedule end up in different zones because of one. */
export function deprecationWarnings(inventory: Inventory): string[] {
  const warnings: string[] = [];
  const places: Array<[string, { retention?: { timeZone?: string } } | undefined]> = [
    ['defaults', inventory.defaults],
    ...Object.entries(inventory.hosts).map(([name, host]): [string, typeof host] => [`hosts.${name}`, host]),
  ];
  for (const [place, settings] of places) {
    const old = settings?.retention?.timeZone;
    if (old !== undefined)
      warnings.push(
        `${place}.retention.timeZone is deprecated: write ${place}.timezone: ${old} instead (one zone for the schedule and retention)`,
      );
  }
  for (const host of Object.keys(inventory.hosts)) {
    const zones = resolveTimeZones(inventory, host);
    if (zones.schedule !== zones.retention)
      warnings.push(
        `hosts.${host}: retention counts days in ${zones.retention} (the deprecated retention.timeZone) but the schedule runs in ${zones.schedule}; set timezone once and remove retention.timeZone`,
      );
  }
  return warnings;
}
