// Snapshot names of the reference systems (SOWN, PlanB) that retention can adopt and rotate.
// Pure parsing only: no clock, no time zone data (the SOWN date's zone is applied by retention).

export type SownClass = 'daily' | 'weekly' | 'monthly' | 'yearly';

export interface SownSnapshotName {
  /** The class word in the name; retention ignores it (the snapshot is just a complete copy). */
  class: SownClass;
  /** Calendar date in the configured time zone. */
  year: number;
  month: number;
  day: number;
}

/** Reads a SOWN name such as `backup-daily-2026-11-20`; undefined for any other name or an impossible date. */
export function parseSownSnapshotName(name: string): SownSnapshotName | undefined {
  const match = /^backup-(daily|weekly|monthly|yearly)-(\d{4})-(\d{2})-(\d{2})$/.exec(name);
  if (!match) return undefined;
  const [, , year, month, day] = match.map(Number);
  const utc = new Date(Date.UTC(year!, month! - 1, day!));
  if (utc.getUTCFullYear() !== year || utc.getUTCMonth() !== month! - 1 || utc.getUTCDate() !== day) return undefined;
  return { class: match[1] as SownClass, year: year!, month: month!, day: day! };
}

/** Reads a PlanB name such as `planb-20261120T0300Z` (UTC, to the minute): its time in ms, or undefined. */
export function parsePlanbSnapshotName(name: string): number | undefined {
  const match = /^planb-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/.exec(name);
  if (!match) return undefined;
  const [, year, month, day, hour, minute] = match.map(Number);
  const ms = Date.UTC(year!, month! - 1, day!, hour!, minute!);
  const back = new Date(ms);
  const same =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month! - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute;
  return same ? ms : undefined;
}
