// Retention: which snapshots of one dataset to keep and which to destroy. Pure and deterministic
// (no clock, no randomness, no Node modules) so workflow code can call it.
//
// Rules, in full:
// - A snapshot is "recognized" when its name is Tidemark's (`tidemark-YYYYMMDDTHHMMSSZ[-partial|-suspect]`)
//   or, when adoption is on for that system, SOWN's (`backup-<class>-YYYY-MM-DD`) or PlanB's
//   (`planb-YYYYmmddTHHMMZ`, and older pools' `daily|weekly|monthly|yearly-YYYYmmddHHMM`). Adopted snapshots
//   count as complete. Everything else is foreign, PlanB's `<custom>-YYYYmmddTHHMMZ` keep snapshots included.
//   Partial and suspect Tidemark snapshots are "anomalies": never counted as good copies.
// - Its time (takenAt) is the one in the name (UTC) for Tidemark and PlanB (both PlanB forms). SOWN names carry only a
//   local date: takenAt is the zfs creation time when that falls on the named date in the policy's
//   zone, else the first instant of that date there (local 00:00). Foreign: the zfs creation time.
//   Snapshots are ordered by (takenAt, name); "newest" means last in that order.
// - Class rules (hourly/daily/weekly/monthly/yearly, periods in the policy's zone) and keepWithin see
//   only recognized complete snapshots (held ones included). For each class with count N, the N
//   periods whose newest snapshot is newest each keep that newest snapshot.
// - The clock stops during an anomaly: while an anomaly is the newest recognized snapshot, keepWithin
//   measures from the newest complete one (or from `now` if that is earlier), so a run of bad backups
//   keeps every good snapshot the last good run kept (class rules do not depend on the time at all).
// - Never destroyed: foreign snapshots, held ones (holds > 0, or unreadable holds), the newest complete
//   one, anomalies newer than it (all anomalies while no complete exists; with anomalyCap set only the
//   newest anomalyCap of those, held ones counted), and nothing at all when the backup did not
//   succeed. Other anomalies are destroyed unless held: class rules skip them. So a host that only
//   ever fails partially keeps at most anomalyCap anomalies plus its held ones.
import { parsePlanbSnapshotName, parseSownSnapshotName, type SownSnapshotName } from './adopted-names.js';
import { parseSnapshotName, type SnapshotLabel } from './names.js';

/** The retention classes, shortest period first, each with the label of a snapshot's period (local
 * calendar time): snapshots with the same label are in the same period. The one list the policy's fields,
 * the inventory schema and the CLI's policy line are made from. */
const periodLabels = {
  hourly: (t: LocalTime) => `${t.year}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}`,
  daily: (t: LocalTime) => `${t.year}-${pad(t.month)}-${pad(t.day)}`,
  weekly: (t: LocalTime, weekStartsOn: number) => weekLabel(t.dayNumber, weekStartsOn),
  monthly: (t: LocalTime) => `${t.year}-${pad(t.month)}`,
  yearly: (t: LocalTime) => String(t.year),
};

export type RetentionClass = keyof typeof periodLabels;
export const retentionClasses = Object.keys(periodLabels) as readonly RetentionClass[];

/** What to keep; a missing or zero count of a class keeps nothing of that class. */
export interface RetentionPolicy extends Partial<Record<RetentionClass, number>> {
  /** Milliseconds: every complete snapshot younger than this (now - takenAt < keepWithin) is kept. */
  keepWithin?: number;
  /** IANA zone whose calendar defines hours, days, weeks, months and years. */
  timeZone: string;
  /** First day of a week, 0 Sunday .. 6 Saturday; default 1 (Monday: ISO weeks). */
  weekStartsOn?: number;
}

/** Suggested counts for an inventory that sets none; the caller adds its time zone. */
export const defaultRetentionCounts: Readonly<Omit<RetentionPolicy, 'timeZone'>> = {
  daily: 7,
  weekly: 4,
  monthly: 12,
  yearly: 3,
};

/** One snapshot as zfs lists it: name after the "@", creation in Unix seconds (activities' SnapshotInfo fits). */
export interface RetentionSnapshot {
  name: string;
  createdAt: number;
  holds: number;
}

/** Which reference systems' snapshots are adopted (rotated as complete copies); off means foreign. */
export interface AdoptOptions {
  sown?: boolean;
  planb?: boolean;
}

export interface RetentionInput {
  snapshots: readonly RetentionSnapshot[];
  policy: RetentionPolicy;
  /** Milliseconds since the epoch (workflow time); only keepWithin uses it. */
  now: number;
  /** False: the plan destroys nothing. */
  backupSucceeded: boolean;
  adopt?: AdoptOptions;
  /** Partial and suspect snapshots newer than the newest complete one that are kept (guards'
   * maxAnomalySnapshots); undefined keeps them all. */
  anomalyCap?: number;
}

/** held wins over partial/suspect/complete; foreign wins over held. */
export type SnapshotKind = 'complete' | 'partial' | 'suspect' | 'held' | 'foreign';

export interface SnapshotVerdict {
  name: string;
  kind: SnapshotKind;
  keep: boolean;
  /** The rules keeping it ("daily 2026-11-20", "weekly 2026-W47", "newest complete", ...); empty when destroyed. */
  reasons: string[];
  /** Time used for ordering and periods, ms since the epoch (see the rules at the top of this file). */
  takenAt: number;
}

export interface RetentionPlan {
  /** One verdict per input snapshot, oldest first. */
  verdicts: SnapshotVerdict[];
  /** Names to destroy, oldest first. */
  destroy: string[];
}

/** Context checkDestroySafety needs besides the snapshot list: how names are read, and the backup's outcome. */
export interface SafetyContext {
  timeZone: string;
  adopt?: AdoptOptions;
  backupSucceeded: boolean;
  /** The plan's anomalyCap: the check must allow what the plan's cap destroys. */
  anomalyCap?: number;
}

interface Entry {
  snapshot: RetentionSnapshot;
  takenAt: number;
  recognized: boolean;
  /** 'complete' for adopted and foreign snapshots too. */
  label: SnapshotLabel;
  reasons: string[];
}

/** What the never-destroy rules need to know about the whole dataset. */
interface Protection {
  newestComplete: Entry | undefined;
  /** Anomalies newer than the newest complete snapshot (all anomalies when there is none): 1 = newest. */
  anomalyRank: Map<Entry, number>;
  anomalyCap: number | undefined;
}

/** The keep/destroy plan for one dataset's snapshots; the same whatever the input order. */
export function planRetention(input: RetentionInput): RetentionPlan {
  const { policy } = input;
  const entries = classifyAll(input.snapshots, policy.timeZone, input.adopt);
  const protection = protectionOf(entries, input.anomalyCap);
  const complete = entries.filter(isComplete);
  const local = new Map(complete.map((entry) => [entry, localTime(entry.takenAt, policy.timeZone)]));

  for (const cls of retentionClasses) {
    const count = policy[cls] ?? 0;
    if (!(count > 0)) continue;
    const newestOfPeriod = new Map<string, Entry>();
    for (const entry of complete)
      newestOfPeriod.set(periodLabel(cls, local.get(entry)!, policy.weekStartsOn ?? 1), entry);
    const ranked = [...newestOfPeriod].sort(([, a], [, b]) => compare(b, a));
    for (const [label, entry] of ranked.slice(0, count)) entry.reasons.push(`${cls} ${label}`);
  }
  const within = policy.keepWithin ?? 0;
  const now = clockStopped(protection) ? Math.min(input.now, protection.newestComplete!.takenAt) : input.now;
  for (const entry of complete) if (within > 0 && now - entry.takenAt < within) entry.reasons.push('keepWithin');
  for (const entry of entries) {
    entry.reasons.push(...protections(entry, protection));
    if (entry.reasons.length === 0 && !input.backupSucceeded) entry.reasons.push('backup did not succeed');
  }

  const verdicts = entries.map((entry) => ({
    name: entry.snapshot.name,
    kind: kindOf(entry),
    keep: entry.reasons.length > 0,
    reasons: entry.reasons,
    takenAt: entry.takenAt,
  }));
  return { verdicts, destroy: verdicts.filter((verdict) => !verdict.keep).map((verdict) => verdict.name) };
}

/** Defence in depth for the prune activity: why `name` must not be destroyed, judged on fresh zfs data
 * (all snapshots of the dataset); an empty list means it may go. Policy-independent rules only. */
export function checkDestroySafety(
  name: string,
  snapshots: readonly RetentionSnapshot[],
  context: SafetyContext,
): string[] {
  const entries = classifyAll(snapshots, context.timeZone, context.adopt);
  const protection = protectionOf(entries, context.anomalyCap);
  const target = entries.find((entry) => entry.snapshot.name === name);
  if (!target) return ['not found'];
  const reasons = protections(target, protection);
  if (!context.backupSucceeded) reasons.push('backup did not succeed');
  return reasons;
}

/** The other snapshots whose presence lets checkDestroySafety allow destroying `name`: the newest
 * complete one and, for an anomaly over the cap, the anomalyCap newest anomalies. Re-read together with
 * `name`, they are enough for the check; if one of them has gone, only a full listing is. */
export function safetyAnchors(name: string, snapshots: readonly RetentionSnapshot[], context: SafetyContext): string[] {
  const entries = classifyAll(snapshots, context.timeZone, context.adopt);
  const protection = protectionOf(entries, context.anomalyCap);
  const target = entries.find((entry) => entry.snapshot.name === name);
  const anchors = protection.newestComplete && protection.newestComplete !== target ? [protection.newestComplete] : [];
  const cap = protection.anomalyCap;
  if (target && cap !== undefined && (protection.anomalyRank.get(target) ?? 0) > cap) {
    for (const [entry, rank] of protection.anomalyRank) if (rank <= cap) anchors.push(entry);
  }
  return anchors.map((entry) => entry.snapshot.name);
}

function classifyAll(
  snapshots: readonly RetentionSnapshot[],
  timeZone: string,
  adopt: AdoptOptions | undefined,
): Entry[] {
  return snapshots
    .map((snapshot) => ({ snapshot, ...classifySnapshot(snapshot, timeZone, adopt), reasons: [] }))
    .sort(compare);
}

/** How retention reads one snapshot: when it was taken, whether Tidemark made or adopts it (recognized; an
 * adopted SOWN or PlanB snapshot is a complete copy), and its label. `history` shows snapshots the same way. */
export function classifySnapshot(
  snapshot: RetentionSnapshot,
  timeZone: string,
  adopt: AdoptOptions | undefined,
): Omit<Entry, 'snapshot' | 'reasons'> {
  const own = parseSnapshotName(snapshot.name);
  if (own) return { takenAt: own.takenAt.getTime(), recognized: true, label: own.label };
  const planb = adopt?.planb ? parsePlanbSnapshotName(snapshot.name) : undefined;
  if (planb) return { takenAt: planb.takenAt, recognized: true, label: 'complete' };
  const sown = adopt?.sown ? parseSownSnapshotName(snapshot.name) : undefined;
  if (sown) return { takenAt: sownTime(sown, snapshot.createdAt, timeZone), recognized: true, label: 'complete' };
  return {
    takenAt: Number.isFinite(snapshot.createdAt) ? snapshot.createdAt * 1000 : 0,
    recognized: false,
    label: 'complete',
  };
}

function isComplete(entry: Entry): boolean {
  return entry.recognized && entry.label === 'complete';
}

function isAnomaly(entry: Entry): boolean {
  return entry.recognized && entry.label !== 'complete';
}

/** `entries` sorted oldest first. */
function protectionOf(entries: readonly Entry[], anomalyCap: number | undefined): Protection {
  if (anomalyCap !== undefined && !(Number.isSafeInteger(anomalyCap) && anomalyCap >= 1)) {
    throw new Error(
      `anomalyCap: must be a whole number, 1 or more (got ${String(anomalyCap)}); leave it out to keep every anomaly newer than the newest complete snapshot`,
    );
  }
  const newestComplete = entries.filter(isComplete).at(-1);
  const newer = entries.filter((entry) => isAnomaly(entry) && (!newestComplete || compare(entry, newestComplete) > 0));
  const anomalyRank = new Map(newer.reverse().map((entry, index) => [entry, index + 1]));
  return { newestComplete, anomalyRank, anomalyCap };
}

/** True while an anomaly is the newest recognized snapshot and a complete one exists. */
function clockStopped(protection: Protection): boolean {
  return protection.newestComplete !== undefined && protection.anomalyRank.size > 0;
}

/** Total order: takenAt, then name (code units), then the raw fields, so input order never matters. */
function compare(a: Entry, b: Entry): number {
  const [x, y] = [a.snapshot, b.snapshot];
  return (
    a.takenAt - b.takenAt ||
    (x.name < y.name ? -1 : x.name > y.name ? 1 : 0) ||
    x.createdAt - y.createdAt ||
    x.holds - y.holds
  );
}

function isHeld(entry: Entry): boolean {
  return !(entry.snapshot.holds <= 0); // NaN or missing counts as held: never guess in favour of destroying
}

function protections(entry: Entry, { newestComplete, anomalyRank, anomalyCap }: Protection): string[] {
  const reasons: string[] = [];
  if (entry === newestComplete) reasons.push('newest complete');
  const rank = anomalyRank.get(entry);
  if (rank !== undefined && anomalyCap === undefined) reasons.push(`${entry.label} newer than newest complete`);
  if (rank !== undefined && anomalyCap !== undefined && rank <= anomalyCap)
    reasons.push(`anomaly ${rank} of ${anomalyCap} newer than newest complete`);
  if (isHeld(entry)) reasons.push('held');
  if (!entry.recognized) reasons.push('foreign');
  return reasons;
}

function kindOf(entry: Entry): SnapshotKind {
  if (!entry.recognized) return 'foreign';
  if (isHeld(entry)) return 'held';
  return entry.label;
}

const dayMs = 86_400_000;

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  /** Days since 1970-01-01 of the local calendar date. */
  dayNumber: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Calendar fields of instant `ms` in `timeZone` (wall clock: a repeated DST hour is one hour). */
function localTime(ms: number, timeZone: string): LocalTime {
  let format = formatters.get(timeZone);
  if (!format) {
    const options = {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
    } as const;
    format = new Intl.DateTimeFormat('en-US', options);
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(ms);
  const field = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value);
  const [year, month, day, hour] = [field('year'), field('month'), field('day'), field('hour')];
  return { year, month, day, hour, dayNumber: Date.UTC(year, month - 1, day) / dayMs };
}

function periodLabel(cls: RetentionClass, t: LocalTime, weekStartsOn: number): string {
  return periodLabels[cls](t, weekStartsOn);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `YYYY-Www`: the week belongs to the year holding its 4th day, numbered from that year's first such
 * week; with Monday starts this is exactly ISO 8601. */
function weekLabel(dayNumber: number, weekStartsOn: number): string {
  const weekday = (((dayNumber + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (4)
  const fourthDay = dayNumber - ((((weekday - weekStartsOn) % 7) + 7) % 7) + 3;
  const year = new Date(fourthDay * dayMs).getUTCFullYear();
  const week = Math.floor((fourthDay - Date.UTC(year, 0, 1) / dayMs) / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** SOWN names carry a local date: the zfs creation time if it lies on that date, else the date's first instant. */
function sownTime(name: SownSnapshotName, createdAt: number, timeZone: string): number {
  const dayNumber = Date.UTC(name.year, name.month - 1, name.day) / dayMs;
  if (Number.isFinite(createdAt) && localTime(createdAt * 1000, timeZone).dayNumber === dayNumber)
    return createdAt * 1000;
  // Binary search (whole seconds) for the first instant on that date; UTC offsets lie within ±15 h.
  let [before, after] = [dayNumber * 86_400 - 15 * 3600, dayNumber * 86_400 + 15 * 3600];
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2);
    if (localTime(mid * 1000, timeZone).dayNumber >= dayNumber) after = mid;
    else before = mid;
  }
  return after * 1000;
}
