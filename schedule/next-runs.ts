// The next start times of a schedule as Temporal will run it (before jitter), for `tidemark config
// check`: calendar rules and cron lines read in the schedule's zone, intervals counted from the epoch,
// skips (blackout) left out.
import type { BackupTiming, CalendarRule, IntRange } from '../domain/schedule-spec.js';
import { cronMatches, nextCronRun } from '../inventory/cron.js';

function ranges(list: IntRange[]): string {
  return list.map(({ start, end }) => (start === end ? `${start}` : `${start}-${end}`)).join(',');
}

/** A calendar rule (hours × minutes, every day) as a cron line. */
function calendarCron(rule: CalendarRule): string {
  return `${ranges(rule.minutes)} ${ranges(rule.hours)} * * *`;
}

/** Start times strictly after `from`, earliest first; none for a disabled schedule. Bounded: a schedule
 * whose runs are nearly all skipped yields fewer than `count`. */
export function upcomingRuns(timing: BackupTiming, from: Date, count: number): Date[] {
  if (!timing.enabled) return [];
  const zone = timing.timezone;
  const sources: Array<(after: Date) => Date | null> = [
    ...[...timing.calendars.map(calendarCron), ...timing.cron].map(
      (line) => (after: Date) => nextCronRun(line, zone, after),
    ),
    ...timing.intervals.map(
      ({ everyMs, offsetMs }) =>
        (after: Date) =>
          new Date((Math.floor((after.getTime() - offsetMs) / everyMs) + 1) * everyMs + offsetMs),
    ),
  ];
  const skips = timing.skip.map(calendarCron);
  const runs: Date[] = [];
  let cursor = from;
  for (let step = 0; runs.length < count && step < 10_000; step++) {
    const candidates = sources.map((next) => next(cursor)).filter((time): time is Date => time !== null);
    if (candidates.length === 0) break;
    cursor = new Date(Math.min(...candidates.map((time) => time.getTime())));
    if (!skips.some((line) => cronMatches(line, zone, cursor))) runs.push(cursor);
  }
  return runs;
}

// One formatter per zone: building one costs more than formatting with it, and a fleet names a few zones.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** "2026-12-02 02:17 +01:00": the time as read in `zone`, with that zone's offset then. */
export function formatInZone(time: Date, zone: string): string {
  if (zone === 'UTC') return `${time.toISOString().slice(0, 16).replace('T', ' ')} +00:00`;
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    });
    formatters.set(zone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(time).map((part) => [part.type, part.value]));
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace(/^GMT/, '');
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${offset}`;
}
