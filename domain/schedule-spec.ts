// When a host's backups run: the inventory's `schedule`, `jitter`, `timezone`, `blackout` and `enabled`
// turned into calendar/interval/cron rules plus skips, deterministically per (host, server). Pure code:
// no Node modules and no clock, so the same inventory always yields the same schedules.
import { parseDuration } from './duration.js';

/** The inventory's `schedule:` shapes: `daily`, `hourly`, `{ every: "6h" }`, `{ cron: "30 2 * * *" }`. */
export type ScheduleChoice = 'daily' | 'hourly' | { every: string } | { cron: string };

/** A host's schedule settings with the inventory defaults applied (inventory/resolve.ts). */
export interface ScheduleSettings {
  schedule: ScheduleChoice;
  /** Random delay added to each run, e.g. "30m"; undefined = the default for the schedule (see defaultJitterMs). */
  jitter?: string;
  /** IANA zone the calendar times and blackout windows are read in. */
  timezone: string;
  /** Windows no run may start or be running its jitter in, "HH:MM-HH:MM" (may wrap midnight) or "H-H". */
  blackout: string[];
  /** false: the schedule exists but is paused (snapshots are kept). */
  enabled: boolean;
}

/** Inclusive range of integers. */
export interface IntRange {
  start: number;
  end: number;
}

/** Matches every minute listed in `minutes` of every hour listed in `hours` (at second 0, or any second). */
export interface CalendarRule {
  hours: IntRange[];
  minutes: IntRange[];
  /** true for skips: the whole minute matches, whatever the second. */
  anySecond: boolean;
}

/** What Temporal is told, in plain data (schedule/temporal-spec.ts maps it onto the SDK's types). */
export interface BackupTiming {
  calendars: CalendarRule[];
  intervals: Array<{ everyMs: number; offsetMs: number }>;
  cron: string[];
  /** Start times that would reach into a blackout window (cron and intervals; calendars avoid them). */
  skip: CalendarRule[];
  jitterMs: number;
  timezone: string;
  /** How late a missed run (server down) may still start: min(interval, 1d); with overlap SKIP an outage yields one run. */
  catchupWindowMs: number;
  enabled: boolean;
  /** One line for plans and tables, e.g. "daily 02:17+30m" or "hourly :05+6m (16/day) Europe/Amsterdam". */
  summary: string;
}

export type TimingResult = { ok: true; timing: BackupTiming } | { ok: false; error: string };

const minutesPerDay = 1440;
const minuteMs = 60_000;
const dayMs = minutesPerDay * minuteMs;
const maxJitterMs = 30 * minuteMs;

/** Default jitter: a tenth of the interval, at most 30 minutes (daily 30m, hourly 6m); none for cron. */
export function defaultJitterMs(intervalMs: number | undefined): number {
  return intervalMs === undefined ? 0 : Math.min(maxJitterMs, Math.floor(intervalMs / 10 / 1000) * 1000);
}

/** A blackout window as [start, end) minutes of the day; end may be below start (wraps midnight). */
export function parseBlackout(text: string): { start: number; end: number } | undefined {
  const match = /^(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, h1, m1, h2, m2] = match;
  const start = Number(h1) * 60 + Number(m1 ?? 0);
  const end = Number(h2) * 60 + Number(m2 ?? 0);
  if (Number(h1) > 23 || Number(m1 ?? 0) > 59 || Number(h2) > 24 || Number(m2 ?? 0) > 59 || end > minutesPerDay)
    return undefined;
  if (start === end % minutesPerDay) return undefined;
  return { start, end: end % minutesPerDay === 0 && end !== 0 ? minutesPerDay : end };
}

/** The longest stretch of the day (minutes, wrapping midnight) that no blackout window covers. */
export function longestBlackoutGap(windows: ReadonlyArray<{ start: number; end: number }>): number {
  const spans: Array<[number, number]> = [];
  for (const { start, end } of windows) {
    if (end > start) spans.push([start, end]);
    else spans.push([start, minutesPerDay], [0, end]);
  }
  if (spans.length === 0) return minutesPerDay;
  spans.sort((a, b) => a[0] - b[0]);
  let longest = 0;
  let covered = spans[0]![1];
  for (const [start, end] of spans.slice(1)) {
    longest = Math.max(longest, start - covered);
    covered = Math.max(covered, end);
  }
  // The gap across midnight: from the last covered minute to the first window's start next day.
  return Math.max(longest, minutesPerDay - covered + spans[0]![0]);
}

/** 32-bit FNV-1a: a stable, well-spread number from a name (not for security). */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Would a run starting at minute `start` of the day (plus up to `jitterMs`) touch a blackout window? */
function touchesBlackout(start: number, jitterMs: number, windows: Array<{ start: number; end: number }>): boolean {
  const reach = jitterMs / minuteMs;
  for (const window of windows) {
    const length = window.end > window.start ? window.end - window.start : window.end + minutesPerDay - window.start;
    for (const shift of [-minutesPerDay, 0, minutesPerDay]) {
      const a = window.start + shift;
      const b = a + length;
      if (start < b && (reach > 0 ? a < start + reach : a <= start)) return true;
    }
  }
  return false;
}

const badMinuteCache = new Map<string, Uint8Array>();

/** 1 for each start minute of the day that would touch a blackout window (cached: fleets share settings). */
function badMinutes(blackout: string[], jitterMs: number, windows: Array<{ start: number; end: number }>): Uint8Array {
  const key = `${blackout.join(',')}|${jitterMs}`;
  let bad = badMinuteCache.get(key);
  if (!bad) {
    bad = new Uint8Array(minutesPerDay);
    for (let minute = 0; minute < minutesPerDay; minute++)
      bad[minute] = touchesBlackout(minute, jitterMs, windows) ? 1 : 0;
    if (badMinuteCache.size > 1000) badMinuteCache.clear();
    badMinuteCache.set(key, bad);
  }
  return bad;
}

/** Minutes of the day grouped into calendar rules: hours sharing the same minute set share a rule. */
export function groupMinutes(minutesOfDay: Iterable<number>, anySecond: boolean): CalendarRule[] {
  const byHour = new Map<number, number[]>();
  for (const minute of [...new Set(minutesOfDay)].sort((a, b) => a - b)) {
    const hour = Math.floor(minute / 60);
    byHour.set(hour, [...(byHour.get(hour) ?? []), minute % 60]);
  }
  const byMinuteSet = new Map<string, { hours: number[]; minutes: number[] }>();
  for (const [hour, minutes] of byHour) {
    const key = minutes.join(',');
    const group = byMinuteSet.get(key) ?? { hours: [], minutes };
    group.hours.push(hour);
    byMinuteSet.set(key, group);
  }
  return [...byMinuteSet.values()].map((group) => ({
    hours: toRanges(group.hours),
    minutes: toRanges(group.minutes),
    anySecond,
  }));
}

function toRanges(sorted: number[]): IntRange[] {
  const ranges: IntRange[] = [];
  for (const value of sorted) {
    const last = ranges.at(-1);
    if (last && last.end === value - 1) last.end = value;
    else ranges.push({ start: value, end: value });
  }
  return ranges;
}

function clock(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** "30m", "1h30m", "45s": the shortest readable form of a duration. */
export function shortDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, seconds] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  return parts.join('');
}

/**
 * The timing of one (host, server) schedule. `serverIndex` of `serverCount` is the server's position
 * among the host's servers (sorted): servers of one host get starting points spread evenly over the
 * allowed part of the interval, and the host's name picks where that spread begins.
 */
export function planTiming(
  host: string,
  serverIndex: number,
  serverCount: number,
  settings: ScheduleSettings,
): TimingResult {
  const windows: Array<{ start: number; end: number }> = [];
  for (const text of settings.blackout) {
    const window = parseBlackout(text);
    if (!window) return { ok: false, error: `blackout "${text}": expected a window such as "09:00-17:00"` };
    windows.push(window);
  }
  const choice = settings.schedule;
  const everyText =
    choice === 'daily' ? '1d' : choice === 'hourly' ? '1h' : 'every' in choice ? choice.every : undefined;
  const intervalMs = everyText === undefined ? undefined : parseDuration(everyText);
  if (everyText !== undefined && (intervalMs === undefined || intervalMs < minuteMs || intervalMs % minuteMs !== 0)) {
    return { ok: false, error: `schedule every "${everyText}": expected whole minutes, at least 1m, e.g. "6h"` };
  }
  let jitterMs = defaultJitterMs(intervalMs);
  if (settings.jitter !== undefined) {
    const parsed = parseDuration(settings.jitter);
    if (parsed === undefined)
      return { ok: false, error: `jitter "${settings.jitter}": expected a duration such as "30m"` };
    jitterMs = parsed;
  }
  if (intervalMs !== undefined && jitterMs >= intervalMs) {
    return {
      ok: false,
      error: `jitter ${shortDuration(jitterMs)} must be shorter than the interval ${shortDuration(intervalMs)}`,
    };
  }
  const zone = settings.timezone === 'UTC' ? '' : ` ${settings.timezone}`;
  const jitterText = jitterMs > 0 ? `+${shortDuration(jitterMs)}` : '';
  const paused = settings.enabled ? '' : ' (disabled)';
  const base = { jitterMs, timezone: settings.timezone, enabled: settings.enabled };
  // Start minutes of the day whose run (plus jitter) would touch a blackout window: computed once.
  const bad = badMinutes(settings.blackout, jitterMs, windows);
  const skipMinutes = () => {
    const skip: number[] = [];
    for (let minute = 0; minute < minutesPerDay; minute++) if (bad[minute]) skip.push(minute);
    return skip;
  };

  // The cron text was checked when the inventory was read (inventory/cron.ts).
  if (typeof choice === 'object' && 'cron' in choice) {
    const skip = skipMinutes();
    if (skip.length === minutesPerDay)
      return { ok: false, error: `blackout ${settings.blackout.join(', ')} covers the whole day` };
    return {
      ok: true,
      timing: {
        ...base,
        calendars: [],
        intervals: [],
        cron: [choice.cron.trim()],
        skip: groupMinutes(skip, true),
        catchupWindowMs: dayMs,
        summary: `cron "${choice.cron.trim()}"${jitterText}${zone}${paused}`,
      },
    };
  }

  const everyMinutes = intervalMs! / minuteMs;
  const hostHash = stableHash(host);
  if (minutesPerDay % everyMinutes !== 0) {
    // Not a divisor of a day: an interval anchored at the epoch (UTC); runs that would touch a blackout are skipped.
    const skip = skipMinutes();
    if (skip.length === minutesPerDay)
      return { ok: false, error: `blackout ${settings.blackout.join(', ')} covers the whole day` };
    const offset = (hostHash + Math.floor((serverIndex * everyMinutes) / serverCount)) % everyMinutes;
    return {
      ok: true,
      timing: {
        ...base,
        calendars: [],
        intervals: [{ everyMs: intervalMs!, offsetMs: offset * minuteMs }],
        cron: [],
        skip: groupMinutes(skip, true),
        catchupWindowMs: Math.min(intervalMs!, dayMs),
        summary: `every ${shortDuration(intervalMs!)}${jitterText}${windows.length > 0 ? ' (skips blackout)' : ''}${zone}${paused}`,
      },
    };
  }

  // A divisor of a day: fixed clock times in the zone. Pick the phases with the fewest runs lost to the
  // blackout, then spread this host's servers evenly over them.
  const slotsPerDay = minutesPerDay / everyMinutes;
  let best = Infinity;
  let good: number[] = [];
  for (let phase = 0; phase < everyMinutes; phase++) {
    let lost = 0;
    for (let slot = 0; slot < slotsPerDay; slot++) lost += bad[phase + slot * everyMinutes]!;
    if (lost < best) {
      best = lost;
      good = [phase];
    } else if (lost === best) good.push(phase);
  }
  if (best === slotsPerDay) {
    return {
      ok: false,
      error: `blackout ${settings.blackout.join(', ')} leaves no start time for a run with jitter ${shortDuration(jitterMs)}`,
    };
  }
  const baseIndex = hostHash % good.length;
  const phase = good[(baseIndex + Math.floor((serverIndex * good.length) / serverCount)) % good.length]!;
  const starts: number[] = [];
  for (let slot = 0; slot < slotsPerDay; slot++) {
    const minute = phase + slot * everyMinutes;
    if (!bad[minute]) starts.push(minute);
  }
  const lost = best > 0 ? ` (${starts.length}/day)` : '';
  const what =
    everyMinutes === minutesPerDay
      ? `daily ${clock(phase)}`
      : everyMinutes === 60
        ? `hourly :${String(phase).padStart(2, '0')}`
        : `every ${shortDuration(intervalMs!)} from ${clock(phase)}`;
  return {
    ok: true,
    timing: {
      ...base,
      calendars: groupMinutes(starts, false),
      intervals: [],
      cron: [],
      skip: [],
      catchupWindowMs: Math.min(intervalMs!, dayMs),
      summary: `${what}${jitterText}${lost}${zone}${paused}`,
    },
  };
}

/** Input of the `scheduledBackup` workflow a schedule starts: the pair, by name only. (Schedules made by
 * older versions also carry a `sourced` object of NetBox settings; it is never passed on.) */
export interface ScheduledBackupInput {
  host: string;
  server: string;
}

/** What a `scheduledBackup` run records: the backup it ran, or why it did not. */
export type ScheduledBackupResult =
  | { outcome: 'ran'; workflowId: string; runId: string; status: string; message: string }
  | { outcome: 'skipped'; reason: 'already running'; workflowId: string; runningRunId?: string; message: string };

/** Input of the `syncInventory` workflow; the token and inventory stay on the worker. */
export interface SyncInventoryInput {
  /** Apply even a suspicious drop in the host count (only `tidemark sync --force` should). */
  force?: boolean;
}

/** What a reconcile did (the `syncInventory` result and `tidemark sync --json`). */
export interface SyncReport {
  applied: boolean;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** Plan lines: "+ vpn@b1 daily 02:17+30m", "~ …", "- …". */
  lines: string[];
  errors: string[];
  warnings: string[];
  /** Set when a drop in hosts kept the plan from being applied (use --force). */
  suspicious?: string;
}
