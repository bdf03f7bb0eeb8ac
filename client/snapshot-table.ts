// How verbs print a retention policy and a host's snapshots (snapshots, prune, config check).
import type { SnapshotRow } from '../pool/snapshot-report.js';
import { formatBytes } from '../domain/bytes.js';
import { durationText } from '../domain/duration.js';
import { retentionClasses, type AdoptOptions, type RetentionPolicy } from '../domain/retention.js';

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
