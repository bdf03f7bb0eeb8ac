// Blackout hours hold for retries too: when the next attempt of a step on the host would start inside one of
// the host's blackout windows (the hours its operators keep quiet, e.g. business hours), it waits until the
// window ends. The schedule already keeps planned starts out of the windows (domain/schedule-spec.ts).
import { parseBlackout } from './schedule-spec.js';

/** A host's blackout windows ("09:00-17:00", may wrap midnight) and the zone they are read in. */
export interface BlackoutSettings {
  windows: string[];
  timeZone: string;
}

/** The host retry policy's backoff (workflows/step-policy.ts builds its RetryPolicy from these). */
export const hostRetryBackoffCoefficient = 2;
export const hostRetryMaximumIntervalMs = 10 * 60_000;

/** How long Temporal waits before attempt `attempt + 1` under the host retry policy. */
export function plannedRetryDelayMs(attempt: number, retryIntervalMs: number): number {
  return Math.min(retryIntervalMs * hostRetryBackoffCoefficient ** (attempt - 1), hostRetryMaximumIntervalMs);
}

const minutesPerDay = 24 * 60;

/** Minute of the day (0–1439) of `at` in `timeZone`, and the milliseconds already into that minute. */
function clockIn(at: Date, timeZone: string): { minute: number; intoMinuteMs: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((entry) => entry.type === type)?.value ?? 0);
  return { minute: part('hour') * 60 + part('minute'), intoMinuteMs: part('second') * 1000 + at.getUTCMilliseconds() };
}

/** The window `at` falls in and how long until it ends; undefined outside every window. (Across a DST change
 * the end is off by the shift, at most an hour: the attempt then starts that much early or late.) */
export function blackoutAt(at: Date, blackout: BlackoutSettings): { window: string; remainingMs: number } | undefined {
  const { minute, intoMinuteMs } = clockIn(at, blackout.timeZone);
  for (const text of blackout.windows) {
    const window = parseBlackout(text);
    if (!window) continue;
    const inside =
      window.end > window.start
        ? minute >= window.start && minute < window.end
        : minute >= window.start || minute < window.end;
    if (!inside) continue;
    const minutesLeft = (window.end - minute + minutesPerDay) % minutesPerDay || minutesPerDay;
    return { window: text, remainingMs: minutesLeft * 60_000 - intoMinuteMs };
  }
  return undefined;
}

/** The delay before the next attempt when `plannedMs` would start it inside a blackout window: until that
 * window (and any window right after it) has ended. Undefined when the planned delay stands. */
export function delayPastBlackout(
  now: Date,
  plannedMs: number,
  blackout: BlackoutSettings | undefined,
): { delayMs: number; window: string } | undefined {
  if (!blackout || blackout.windows.length === 0) return undefined;
  let delayMs = plannedMs;
  let first: string | undefined;
  // Windows back to back (or overlapping) are waited out one after the other; a day has few of them.
  for (let step = 0; step < 16; step++) {
    const inside = blackoutAt(new Date(now.getTime() + delayMs), blackout);
    if (!inside) break;
    first ??= inside.window;
    delayMs += inside.remainingMs;
  }
  return first === undefined ? undefined : { delayMs, window: first };
}
