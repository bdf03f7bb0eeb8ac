// What an inventory value may contain, by where it ends up: rsync arguments, rsync filter lines, ssh
// options, a remote shell, Node timers. Shared by the inventory schema and NetBox's host settings.
import { z } from 'zod';
import { durationText, parseDuration } from '../domain/duration.js';
import { controlCharacter } from '../domain/printable.js';
import { hostFolderCharacters, hostPathAlphabet, hostPathCharacters } from '../domain/host-path.js';

/** Never allowed anywhere in the inventory (domain/printable.ts). */
export { controlCharacter };

/** "U+000D" for the first control character in `text`, else undefined. */
export function firstControlCharacter(text: string): string | undefined {
  const found = controlCharacter.exec(text)?.[0];
  return found === undefined ? undefined : `U+${found.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Letters (any script) and digits plus `. _ + - @ : , =` and `/`: no shell metacharacter, no wildcard,
 * no quote, no backslash, no whitespace. */
const pathCharacters = /^[\p{L}\p{M}\p{N}._+\-@:,=/]+$/u;

export const pathAlphabet = 'letters, digits, "/" and . _ + - @ : , =';

function absolutePath(characters: RegExp, alphabet: string) {
  return z
    .string({ error: 'expected an absolute path starting with "/"' })
    .regex(/^\//, { error: 'expected an absolute path starting with "/"', abort: true })
    .max(4096, { error: 'expected a path of at most 4096 characters (PATH_MAX)' })
    .refine((path) => characters.test(path), {
      error: `expected an absolute path of ${alphabet} only (no shell metacharacters, quotes, wildcards or control characters)`,
      abort: true,
    })
    .refine((path) => !path.split('/').includes('..'), { error: 'a path may not contain ".." components' });
}

/** Paths on this machine or in ssh options: the safe alphabet, no spaces. */
export const absolutePathSchema = absolutePath(pathCharacters, pathAlphabet);

const filterNote = "(the host's ssh filter, tidemark-ssh-filter, admits no other)";

/** The host paths rsync copies: the host path alphabet shared with the ssh filter, and single spaces inside
 * names (domain/host-path.ts). */
export const rsyncPathSchema = absolutePath(
  hostPathCharacters,
  `${hostPathAlphabet} and single spaces inside names ${filterNote}`,
);

/** A folder on the host whose mounts rsync copies: the same alphabet, no spaces. */
export const hostFolderSchema = absolutePath(hostFolderCharacters, `${hostPathAlphabet} ${filterNote}`);

/** An integer from `min` to `max`; `message` (default "expected an integer min-max") for a value of another
 * type, a fraction and a value out of range alike. */
export function integerRange(min: number, max: number, message = `expected an integer ${min}-${max}`) {
  return z.int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

/** Node's setTimeout limit (a larger delay fires at once). */
export const timerLimitMs = 2 ** 31 - 1;

const second = 1_000;
const minute = 60 * second;
const day = 24 * 60 * minute;

export interface DurationBounds {
  /** Examples shown in messages, quoted, e.g. '"30s"'. */
  example: string;
  /** Smallest allowed, in ms (inclusive), and why. */
  min: number;
  minWhy: string;
  /** Largest allowed, in ms (inclusive), and why. Default: below Node's timer limit. */
  max?: number;
  maxWhy?: string;
}

/** A duration text ("90s", "1h30m") within bounds; the message names the bound and why it exists. */
export function boundedDuration(bounds: DurationBounds) {
  const max = bounds.max ?? timerLimitMs;
  const maxWhy = bounds.maxWhy ?? "Node's timer limit (about 24.8 days)";
  const expected = `expected a duration such as ${bounds.example}`;
  return z.string({ error: expected }).superRefine((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) ctx.addIssue({ code: 'custom', message: expected });
    else if (ms < bounds.min)
      ctx.addIssue({ code: 'custom', message: `must be at least ${durationText(bounds.min)}: ${bounds.minWhy}` });
    else if (ms > max) ctx.addIssue({ code: 'custom', message: `must be at most ${durationText(max)}: ${maxWhy}` });
  });
}

export const durations = { second, minute, day };
