// Cron lines of `schedule: { cron: ... }`, parsed by croner: checked when the inventory is read (every
// problem names the field and the fix), and asked for their next start times (schedule/next-runs.ts).
// Temporal runs the schedule; croner is told to read it the same way: 5 fields, and day-of-month and
// day-of-week must both match (Temporal's calendar specs AND them, where classic cron ORs them).
import { Cron } from 'croner';

interface CronField {
  name: string;
  range: string;
  names?: string;
}

const cronFields: CronField[] = [
  { name: 'minute', range: '0-59' },
  { name: 'hour', range: '0-23' },
  { name: 'day-of-month', range: '1-31' },
  { name: 'month', range: '1-12', names: 'JAN-DEC' },
  // 0 and 7 are both Sunday.
  { name: 'day-of-week', range: '0-7', names: 'SUN-SAT' },
];

/** Each comma-separated part: a value (a number, or a name where the field has names), a range of
 * them, each optionally with a step; "*" alone or with a step. The syntax Temporal and croner share
 * (croner alone knows L, W and #). */
function partSyntax(field: CronField): RegExp {
  const value = field.names ? '(?:\\d+|[A-Za-z]{3})' : '\\d+';
  return new RegExp(`^(?:\\*|${value}(?:-${value})?)(?:/\\d+)?$`);
}

function cronOf(text: string, timezone?: string): Cron {
  // sloppyRanges: "5/15" is "from 5, every 15", as in Temporal (croner asks for "5-59/15" by default).
  // UTC as an offset: croner then skips the Intl formatter it asks on every step for a named zone.
  const zone = timezone === 'UTC' ? { utcOffset: 0 } : timezone ? { timezone } : {};
  return new Cron(text, { mode: '5-part', domAndDow: true, sloppyRanges: true, ...zone });
}

/** Why croner refused one part of a field, in the inventory's words: the field, the part and what fits. */
function partProblem(field: CronField, part: string, error: Error): string {
  if (/illegal stepping: 0\b/.test(error.message)) return `${field.name} step in ${part} must be at least 1`;
  if (/steps cannot be greater/.test(error.message))
    return `${field.name} step in ${part} is larger than the range ${field.range}`;
  if (/From value is larger than to value/.test(error.message))
    return `${field.name} range ${part} runs backwards; write the smaller value first`;
  if (error instanceof RangeError) return `${field.name} ${part} is out of range ${field.range}`;
  return notAValue(field, part);
}

function notAValue(field: CronField, part: string): string {
  return `"${part}" in the ${field.name} field is not a value of ${field.range}${field.names ? ` or ${field.names}` : ''}, range (1-5), list (1,3) or step (*/15)`;
}

// Cached: a fleet repeats the same few lines on many hosts, and "never fires" takes croner a search.
const problems = new Map<string, string | undefined>();

/** Cron texts we let through to Temporal: an @shorthand, or 5 fields (minute hour day-of-month month
 * day-of-week) of values, names, ranges, lists and steps within range, that fire at least once. */
export function cronProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (!problems.has(trimmed)) {
    if (problems.size > 1000) problems.clear();
    problems.set(trimmed, findProblem(trimmed));
  }
  return problems.get(trimmed);
}

function findProblem(trimmed: string): string | undefined {
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(trimmed)) return undefined;
  if (/^@every\b/.test(trimmed)) return 'use { every: "6h" } instead of "@every"';
  if (/^(CRON_)?TZ=/.test(trimmed)) return 'set the time zone with "timezone", not in the cron text';
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5)
    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  // Part by part, every other field "*": croner's complaint is then about this part of this field.
  for (const [index, value] of fields.entries()) {
    const field = cronFields[index]!;
    if (value === '?' && (field.name === 'day-of-month' || field.name === 'day-of-week')) continue;
    for (const part of value.split(',')) {
      if (!partSyntax(field).test(part)) return notAValue(field, part);
      try {
        cronOf(fields.map((other, at) => (at === index ? part : '*')).join(' '));
      } catch (error) {
        return partProblem(field, part, error as Error);
      }
    }
  }
  try {
    cronOf(trimmed);
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, '');
  }
  // croner looks ahead for a match and gives up after some thousand years.
  if (cronOf(trimmed).nextRun(new Date(Date.UTC(2000, 0, 1))) === null)
    return `"${trimmed}" never fires (no date matches its day-of-month, month and day-of-week; both days must match)`;
  return undefined;
}

// Parsed lines for the questions below, which `config check` asks many times per schedule.
const parsed = new Map<string, Cron>();

function parsedCron(text: string, timezone: string): Cron {
  const key = `${timezone} ${text.trim()}`;
  let cron = parsed.get(key);
  if (!cron) {
    if (parsed.size > 1000) parsed.clear();
    cron = cronOf(text.trim(), timezone);
    parsed.set(key, cron);
  }
  return cron;
}

/** The first start of a valid cron line strictly after `after`, read in `timezone`; null if none. */
export function nextCronRun(text: string, timezone: string, after: Date): Date | null {
  return parsedCron(text, timezone).nextRun(after);
}

/** Whether the minute of `at` matches the cron line, read in `timezone`. */
export function cronMatches(text: string, timezone: string, at: Date): boolean {
  return parsedCron(text, timezone).match(at);
}
