// Extra rsync options a host or group may add (`transfer.rsyncOptions`): an allow-list, because an option
// can change what is copied and where (--remove-source-files, --files-from, -e ...). PlanB's rule applies:
// `--opt=` with nothing after "=" removes Tidemark's own `--opt`/`--opt=value` instead of adding one.

/** Options taken, each with the shape of its value (undefined: a flag without a value). */
const allowedOptions: Record<string, { value?: RegExp; example: string } | undefined> = {
  // A charset pair "local,remote" (or one charset): names of letters, digits and - _ . : only.
  '--iconv': { value: /^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)?$/, example: '--iconv=utf8,latin1' },
  '--checksum': undefined,
  '--compress': undefined,
  '--compress-level': { value: /^\d$/, example: '--compress-level=6' },
  '--bwlimit': { value: /^[1-9]\d*[KMG]?$/, example: '--bwlimit=10M' },
  '--no-inc-recursive': undefined,
  '--block-size': { value: /^[1-9]\d{0,8}$/, example: '--block-size=131072' },
  '--whole-file': undefined,
};

/** Short spellings rsync also takes. */
const shortOptions: Record<string, string> = { '-c': '--checksum', '-z': '--compress', '-W': '--whole-file' };

/** Tidemark's own options `--opt=` may remove (the others keep the copy faithful and safe: --delete,
 * --relative, --one-file-system, --secluded-args, ...). */
export const removableDefaults = ['--sparse', '--hard-links', '--acls', '--xattrs', '--timeout', '--inplace'] as const;

/** Why `option` is refused; undefined when it is taken. */
export function rsyncOptionProblem(option: string): string | undefined {
  const long = shortOptions[option] ?? option;
  const [name = '', ...rest] = long.split('=');
  const value = rest.length > 0 ? rest.join('=') : undefined;
  if (value === '' && (removableDefaults as readonly string[]).includes(name)) return undefined;
  if (value === '')
    return `"${name}=" removes one of Tidemark's own options, and only these may be removed: ${removableDefaults.join(', ')}`;
  if (!Object.hasOwn(allowedOptions, name))
    return `"${option}" is not an allowed rsync option; allowed: ${Object.keys(allowedOptions).join(', ')} (and ${removableDefaults.map((opt) => `${opt}=`).join(', ')} to remove a default)`;
  const shape = allowedOptions[name];
  if (shape === undefined && value !== undefined) return `"${name}" takes no value`;
  if (shape !== undefined && (value === undefined || !shape.value!.test(value)))
    return `"${option}" needs a value shaped like ${shape.example}`;
  return undefined;
}

/** rsync's argument list with the host's options applied: `--opt=` drops Tidemark's `--opt`/`--opt=…`;
 * the others are added (a --bwlimit replaces transfer.bandwidthLimit's). Inserted before the --rsh option, so
 * they stay among the options (before the paths). `checksum`: this run is a periodic --checksum run. */
export function applyRsyncOptions(args: readonly string[], options: readonly string[], checksum = false): string[] {
  const normalised = options.map((option) => shortOptions[option] ?? option);
  const removed = normalised.filter((option) => option.endsWith('=')).map((option) => option.slice(0, -1));
  const added = normalised.filter((option) => !option.endsWith('='));
  if (checksum && !added.includes('--checksum')) added.push('--checksum');
  const addedNames = new Set(added.map((option) => option.split('=')[0]!));
  const kept = args.filter((arg) => {
    const name = arg.split('=')[0]!;
    if (!name.startsWith('--')) return true;
    return !removed.includes(name) && !(name === '--bwlimit' && addedNames.has('--bwlimit'));
  });
  const rsh = kept.findIndex((arg) => arg.startsWith('--rsh='));
  const at = rsh === -1 ? kept.length : rsh;
  return [...kept.slice(0, at), ...added, ...kept.slice(at)];
}

/** The host-side command that runs rsync: `[sudo] [ionice -c C [-n L]] [nice -n N] rsync`, as rsync's
 * --rsync-path (the host filter's config names the same prefix). */
export function remoteRsyncCommand(options: {
  sudo: boolean;
  ionice?: { class: 'idle' | 'best-effort'; level?: number } | undefined;
  nice?: number | undefined;
}): string {
  return [...(options.sudo ? ['sudo'] : []), ...hostPriorityPrefix(options), 'rsync'].join(' ');
}

/** `ionice …` and `nice …` words before rsync on the host; empty when neither is set. */
export function hostPriorityPrefix(options: {
  ionice?: { class: 'idle' | 'best-effort'; level?: number } | undefined;
  nice?: number | undefined;
}): string[] {
  const words: string[] = [];
  if (options.ionice)
    words.push(
      'ionice',
      '-c',
      options.ionice.class === 'idle' ? '3' : '2',
      ...(options.ionice.class === 'best-effort' && options.ionice.level !== undefined
        ? ['-n', String(options.ionice.level)]
        : []),
    );
  if (options.nice !== undefined) words.push('nice', '-n', String(options.nice));
  return words;
}

/** Whether a run at `now` is the host's periodic --checksum run: one schedule interval in each `everyMs`,
 * at an offset fixed by the host's name (so a fleet's checksum runs spread over the period). */
export function isChecksumRun(host: string, everyMs: number, intervalMs: number, now: Date): boolean {
  if (everyMs <= 0) return false;
  const offset = Math.floor((nameHash(host) / 2 ** 32) * everyMs);
  const position = (((now.getTime() - offset) % everyMs) + everyMs) % everyMs;
  return position < Math.min(intervalMs, everyMs);
}

/** FNV-1a over the name: stable across processes and versions (no Node crypto needed). */
function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index++) {
    hash ^= name.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
