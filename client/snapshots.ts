// `tidemark snapshots --host vpn [--server S] [--json]`: the host's snapshots on this backup server, with
// time, size, kind and the retention rule keeping each one (or that the next prune removes it).
// Runs on the backup server itself: it reads the pool with zfs, not through Temporal.
import { renamedInto } from '../pool/renamed.js';
import { datasetInfo } from '../pool/zfs.js';
import { snapshotReport, type SnapshotRow } from '../pool/snapshot-report.js';
import { formatBytes } from '../domain/bytes.js';
import { durationText } from '../domain/duration.js';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import type { LocalTarget } from '../domain/host-target.js';
import { retentionClasses, type AdoptOptions, type RetentionPolicy } from '../domain/retention.js';
import { hostTarget } from '../inventory/host-target.js';
import { resolveHost } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';

// Moved to pool/ and domain/ so the server's worker answers the web console with the same code.
export { snapshotReport, type SnapshotReport, type SnapshotRow } from '../pool/snapshot-report.js';
export type { LocalTarget } from '../domain/host-target.js';

/** `--server`, else the host's only server, else the one of its servers whose dataset is on this machine. */
export async function localTarget(inventory: Inventory, hostName: string, serverName?: string): Promise<LocalTarget> {
  let host: ReturnType<typeof resolveHost>;
  try {
    host = resolveHost(inventory, hostName);
  } catch (error) {
    await refuseRenamed(inventory, hostName);
    throw error;
  }
  const candidates = (serverName ? [serverName] : host.servers).map((server) => hostTarget(inventory, host, server));
  const present = [];
  for (const candidate of candidates) if (await datasetInfo(candidate.dataset)) present.push(candidate);
  let chosen = candidates.length === 1 ? candidates[0] : undefined;
  if (!chosen && present.length === 1) chosen = present[0];
  if (!chosen) {
    const here =
      present.length > 0
        ? `datasets of ${present.map((entry) => entry.server).join(', ')} are here`
        : 'none of their datasets is on this machine';
    throw new TidemarkError(
      'USAGE',
      `--server: ${host.host} is backed up on ${host.servers.join(', ')}; name one (${here})`,
    );
  }
  if (!present.includes(chosen)) await refuseRenamed(inventory, host.host);
  return { ...chosen, exists: present.includes(chosen) };
}

/** A host renamed with `tidemark rename-host`: a usage error naming where its backups went. */
async function refuseRenamed(inventory: Inventory, hostName: string): Promise<void> {
  for (const entry of Object.values(inventory.servers)) {
    const [into] = await renamedInto(entry.dataset, hostName);
    if (into === undefined) continue;
    const now = into.slice(into.lastIndexOf('/') + 1);
    throw new TidemarkError(
      'USAGE',
      `--host: ${hostName} was renamed to ${now}; its backups, the snapshots from before the rename included, are in ${into} (--host ${now})`,
    );
  }
}

/** localTarget for a command that reads the host's backups: a usage error while none has been made here. */
export async function backedUpTarget(
  inventory: Inventory,
  hostName: string,
  serverName?: string,
): Promise<LocalTarget> {
  const target = await localTarget(inventory, hostName, serverName);
  if (!target.exists)
    throw new TidemarkError(
      'USAGE',
      `--host: ${target.host} has no backup on ${target.server} yet (no dataset ${target.dataset})`,
    );
  return target;
}

export async function showSnapshots(
  inventory: Inventory,
  options: { host: string; server?: string; json?: boolean },
): Promise<ExitCode> {
  const target = await localTarget(inventory, options.host, options.server);
  const { report } = await snapshotReport(target);
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
    return ExitCode.ok;
  }
  console.log(
    `${report.dataset} (${report.host} on ${report.server}), policy ${describePolicy(report.policy, report.adopt, report.anomalyCap)}`,
  );
  if (!report.exists) console.log('no backup yet: the dataset does not exist');
  else if (report.snapshots.length === 0) console.log('no snapshots');
  else console.log(formatTable(report.snapshots, report.policy.timeZone));
  return ExitCode.ok;
}

/** "daily 7, weekly 4, keepWithin 36h, Europe/Amsterdam, weeks from Monday; adopts SOWN; at most 7
 * partial/suspect snapshots newer than the newest complete one". */
export function describePolicy(policy: RetentionPolicy, adopt: AdoptOptions, anomalyCap?: number): string {
  const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const parts = retentionClasses.filter((cls) => (policy[cls] ?? 0) > 0).map((cls) => `${cls} ${policy[cls]}`);
  if ((policy.keepWithin ?? 0) > 0) parts.push(`keepWithin ${durationText(policy.keepWithin!)}`);
  if (parts.length === 0) parts.push('newest only');
  parts.push(policy.timeZone, `weeks from ${days[policy.weekStartsOn ?? 1]}`);
  const adopted = [adopt.sown ? 'SOWN' : '', adopt.planb ? 'PlanB' : ''].filter(Boolean);
  const capped =
    anomalyCap === undefined
      ? ''
      : `; at most ${anomalyCap} partial/suspect snapshots newer than the newest complete one`;
  return parts.join(', ') + (adopted.length > 0 ? `; adopts ${adopted.join(' and ')} snapshots` : '') + capped;
}

/** Columns: name, local time in the policy's zone, size, kind, the rules keeping it (or "prune"). */
export function formatTable(rows: SnapshotRow[], timeZone: string): string {
  const local = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  // Replicas (and targets after a failover) show where each snapshot came from.
  const origins = rows.some((row) => row.origin);
  const table = [['SNAPSHOT', `TAKEN (${timeZone})`, 'SIZE', 'KIND', ...(origins ? ['ORIGIN'] : []), 'KEPT BY']];
  for (const row of rows) {
    const kept = row.keep ? row.reasons.join(', ') : '— (pruned by the next prune)';
    const held = row.keepReason !== null ? ` ("${row.keepReason}")` : '';
    table.push([
      row.name,
      local.format(new Date(row.takenAt)).replace(', ', ' '),
      formatBytes(row.used),
      row.adoptedAs ? `${row.kind} (${row.adoptedAs})` : row.kind,
      ...(origins ? [row.origin ? `replica of ${row.origin}` : 'pulled here'] : []),
      kept + held,
    ]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  const text = table
    .map((line) =>
      line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '),
    )
    .join('\n');
  return rows.some((row) => row.used === 0) ? `${text}\n${sizeFootnote}` : text;
}

/** Why the newest snapshot (and any with nothing of its own) shows 0B: ZFS's "used" of a snapshot. */
export const sizeFootnote =
  'SIZE is what the snapshot alone holds (ZFS "used": freed if it were destroyed). The newest snapshot shares ' +
  'everything with the live copy, so it shows 0B until the next backup changes files.';

export { formatBytes };
