// Durations as operators write them in YAML ("90s", "10m", "1h30m", "7d"); pure, usable in workflows.

const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const durationPattern = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

/** Milliseconds in a duration string such as "1h30m"; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!durationPattern.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(amount) * (unitMs[unit!] ?? 0);
  return total;
}

/** `ms` exactly, as the shortest duration text parseDuration reads back ("10m", "1d12h", "24d20h31m23s647ms"). */
export function durationText(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = unitMs[unit]!;
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

/** A short human form of a duration, two units at most, for summaries and tables ("850ms", "2m05s",
 * "26h10m"); with `days`, a day or more reads "3d04h". */
export function formatDuration(ms: number, options: { days?: boolean } = {}): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${pad(seconds % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (options.days && hours >= 24) return `${Math.floor(hours / 24)}d${pad(hours % 24)}h`;
  return `${hours}h${pad(minutes % 60)}m`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
