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

/** `planb` for PlanB's one-per-run snapshots; the class word of its older `daily-201706031147` names. */
export type PlanbClass = 'planb' | SownClass;

export interface PlanbSnapshotName {
  class: PlanbClass;
  /** ms since the epoch (PlanB compares these stamps as UTC). */
  takenAt: number;
}

/** Reads a PlanB name retention may rotate: `planb-20261120T0300Z` (UTC, to the minute) or an older pool's
 * `daily|weekly|monthly|yearly-201706031147`; undefined for any other name or an impossible time. */
export function parsePlanbSnapshotName(name: string): PlanbSnapshotName | undefined {
  const current = /^planb-(\d{8})T(\d{4})Z$/.exec(name);
  if (current) return planbTime('planb', current[1]!, current[2]!);
  const older = /^(daily|weekly|monthly|yearly)-(\d{8})(\d{4})$/.exec(name);
  if (older) return planbTime(older[1] as SownClass, older[2]!, older[3]!);
  return undefined;
}

/** Reads a PlanB "keep" snapshot, `<custom>-YYYYmmddTHHMMZ` with any prefix but `planb` (PlanB's rule for a
 * custom prefix: lower-case letters, digits and inner dashes). PlanB never rotates these, nor does Tidemark:
 * retention leaves them foreign; this only names them in listings. */
export function parsePlanbKeepName(name: string): { prefix: string; takenAt: number } | undefined {
  const match = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(\d{8})T(\d{4})Z$/.exec(name);
  if (!match || match[1] === 'planb') return undefined;
  const time = planbTime('planb', match[2]!, match[3]!);
  return time ? { prefix: match[1]!, takenAt: time.takenAt } : undefined;
}

function planbTime(cls: PlanbClass, date: string, time: string): PlanbSnapshotName | undefined {
  const [year, month, day] = [date.slice(0, 4), date.slice(4, 6), date.slice(6, 8)].map(Number);
  const [hour, minute] = [time.slice(0, 2), time.slice(2, 4)].map(Number);
  const ms = Date.UTC(year!, month! - 1, day!, hour!, minute!);
  const back = new Date(ms);
  const same =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month! - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute;
  return same ? { class: cls, takenAt: ms } : undefined;
}

/** What a listing calls a snapshot of a reference system ("PlanB daily", "PlanB keep", "SOWN weekly"), whether
 * or not retention adopts it; undefined for any other name. */
export function referenceClass(name: string): string | undefined {
  const planb = parsePlanbSnapshotName(name);
  if (planb) return planb.class === 'planb' ? 'PlanB run' : `PlanB ${planb.class}`;
  if (parsePlanbKeepName(name)) return 'PlanB keep';
  const sown = parseSownSnapshotName(name);
  return sown ? `SOWN ${sown.class}` : undefined;
}
