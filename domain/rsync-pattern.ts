// What an rsync exclude pattern matches, judged before rsync ever sees it: a small matcher for rsync's
// wildcard rules and a check against sample paths every real system has, so that a pattern which would
// exclude (and, with --delete-excluded, empty) the whole copy is refused. Pure: used by the inventory
// schema and by the host exclude-file guard.

/** A compiled pattern; undefined when the pattern uses wildcard syntax this matcher does not model. */
export interface RsyncMatcher {
  /** Whether the rule applies to `path` (absolute, no trailing "/"), a directory when `isDir`. */
  matches(path: string, isDir: boolean): boolean;
}

const posixClasses: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  lower: 'a-z',
  upper: 'A-Z',
  space: ' \\t\\n\\r\\f\\v',
  xdigit: '0-9A-Fa-f',
  punct: '!-\\/:-@\\[-`{-~',
};

/** The regex body for a wildcard text: "*" (not "/"), "**" (anything), "?" (one char, not "/"), "[..]", "\\x". */
function wildcardToRegex(text: string): string | undefined {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\\') {
      const next = text[i + 1];
      if (next === undefined) return undefined;
      out += escapeRegex(next);
      i++;
    } else if (char === '*') {
      let stars = 1;
      while (text[i + stars] === '*') stars++;
      // "dir/***" matches "dir" itself and everything inside it.
      if (stars >= 3 && out.endsWith('\\/') && i + stars === text.length) out = `${out.slice(0, -2)}(?:\\/.*)?`;
      else out += stars >= 2 ? '.*' : '[^/]*';
      i += stars - 1;
    } else if (char === '?') {
      out += '[^/]';
    } else if (char === '[') {
      const end = classEnd(text, i);
      if (end === undefined) {
        out += '\\[';
        continue;
      }
      const body = characterClass(text.slice(i + 1, end));
      if (body === undefined) return undefined;
      out += `(?!\\/)${body}`;
      i = end;
    } else {
      out += escapeRegex(char);
    }
  }
  return out;
}

/** Index of the "]" closing the class opened at `start` ("]" right after "[" or "[!" is literal). */
function classEnd(text: string, start: number): number | undefined {
  let i = start + 1;
  if (text[i] === '!' || text[i] === '^') i++;
  if (text[i] === ']') i++;
  for (; i < text.length; i++) {
    if (text[i] === '[' && text[i + 1] === ':') {
      const close = text.indexOf(':]', i + 2);
      if (close !== -1) {
        i = close + 1;
        continue;
      }
    }
    if (text[i] === ']') return i;
  }
  return undefined;
}

function characterClass(inner: string): string | undefined {
  let negate = false;
  if (inner.startsWith('!') || inner.startsWith('^')) {
    negate = true;
    inner = inner.slice(1);
  }
  let body = '';
  for (let i = 0; i < inner.length; i++) {
    const char = inner[i]!;
    if (char === '[' && inner[i + 1] === ':') {
      const close = inner.indexOf(':]', i + 2);
      const range = close === -1 ? undefined : posixClasses[inner.slice(i + 2, close)];
      if (range === undefined) return undefined;
      body += range;
      i = close + 1;
    } else if (char === '\\') {
      body += escapeRegex(inner[i + 1] ?? '\\');
      i++;
    } else if (char === '-' && i > 0 && i < inner.length - 1) {
      body += '-';
    } else {
      body += escapeRegex(char);
    }
  }
  return `[${negate ? '^' : ''}${body}]`;
}

function escapeRegex(char: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(char) ? `\\${char}` : char;
}

/**
 * rsync's rules (man rsync, "PATTERN MATCHING RULES"): a leading "/" anchors the pattern at the root of
 * the transfer (here "/", as Tidemark transfers with --relative); a trailing "/" matches directories
 * only; a pattern holding a "/" (other than a trailing one) or "**" is matched against the whole path's
 * trailing components, otherwise against the final component only.
 */
export function compileRsyncPattern(pattern: string): RsyncMatcher | undefined {
  const dirOnly = pattern.endsWith('/') && pattern !== '/';
  let body = dirOnly ? pattern.replace(/\/+$/, '') : pattern;
  const anchored = body.startsWith('/');
  if (anchored) body = body.replace(/^\/+/, '');
  if (body === '') return { matches: (_path, isDir) => isDir || !dirOnly };
  // Without a wildcard rsync takes "\\" literally too.
  const regexBody = /[*?[]/.test(body) ? wildcardToRegex(body) : [...body].map(escapeRegex).join('');
  if (regexBody === undefined) return undefined;
  const regex = new RegExp(anchored ? `^\\/${regexBody}$` : `(?:^|\\/)${regexBody}$`);
  return { matches: (path, isDir) => (!dirOnly || isDir) && regex.test(path) };
}

/** One entry below each root: the leaf and whether it is a directory. Every real system has such names. */
const sampleEntries: ReadonlyArray<[path: string, isDir: boolean]> = [
  ['etc/passwd', false],
  ['usr/bin/sh', false],
  ['var/lib', true],
  ['home/user/file', false],
  ['root/notes', false],
  ['srv/data', false],
  ['opt/x', false],
  ['boot/grub', true],
  ['a', false],
  ['z9', false],
];

/** Share of the sample entries (at or above which) a pattern list counts as excluding everything. */
export const excludesEverythingShare = 0.8;

/** The sample entries under `root` that the patterns exclude (an entry is gone when it or a parent matches). */
export function excludedSamples(matchers: readonly RsyncMatcher[], root = '/'): string[] {
  const base = root === '/' ? '' : root.replace(/\/+$/, '');
  const excluded: string[] = [];
  for (const [relative, isDir] of sampleEntries) {
    const parts = relative.split('/');
    // The root itself counts too: a pattern matching it drops every entry below it.
    const candidates: Array<[string, boolean]> = base === '' ? [] : [[base, true]];
    parts.forEach((_, index) =>
      candidates.push([`${base}/${parts.slice(0, index + 1).join('/')}`, index < parts.length - 1 || isDir]),
    );
    if (candidates.some(([path, dir]) => matchers.some((matcher) => matcher.matches(path, dir))))
      excluded.push(`${base}/${relative}`);
  }
  return excluded;
}

/** Patterns judged one after another, alone and together with those accepted before (each is matched once). */
export class ExcludeCoverage {
  private readonly excluded = new Map<string, Set<string>>();
  constructor(private readonly roots: readonly string[] = ['/']) {
    for (const root of roots) this.excluded.set(root, new Set());
  }

  /** Why `pattern` may not be used, else undefined and the pattern is counted in. */
  add(pattern: string): string | undefined {
    const found: Array<{ root: string; mine: readonly string[] }> = [];
    for (const root of this.roots) {
      const mine = samplesExcludedBy(pattern, root);
      if (mine === undefined)
        return `"${pattern}" uses wildcard syntax this check cannot judge (a trailing "\\" or an unknown [:class:]); write it differently`;
      found.push({ root, mine });
    }
    for (const { root, mine } of found) {
      if (tooMany(mine.length)) return everything(root, mine);
    }
    for (const { root, mine } of found) {
      const union = new Set([...this.excluded.get(root)!, ...mine]);
      if (tooMany(union.size)) return `together with the patterns before it, ${everything(root, [...union])}`;
    }
    for (const { root, mine } of found) for (const path of mine) this.excluded.get(root)!.add(path);
    return undefined;
  }
}

const sampleCache = new Map<string, readonly string[] | undefined>();

/** excludedSamples for one pattern, cached: a fleet shares its defaults' patterns across thousands of hosts. */
function samplesExcludedBy(pattern: string, root: string): readonly string[] | undefined {
  const key = `${root}\0${pattern}`;
  if (sampleCache.has(key)) return sampleCache.get(key);
  const matcher = compileRsyncPattern(pattern);
  const excluded = matcher ? excludedSamples([matcher], root) : undefined;
  if (sampleCache.size >= 10_000) sampleCache.clear();
  sampleCache.set(key, excluded);
  return excluded;
}

function tooMany(count: number): boolean {
  return count >= sampleEntries.length * excludesEverythingShare;
}

function everything(root: string, excluded: readonly string[]): string {
  return `would exclude everything under ${root} (it matches ${excluded.length} of ${sampleEntries.length} sample paths such as ${excluded.slice(0, 3).join(', ')}); with --delete-excluded the copy would be emptied`;
}

/** Why this pattern list may not be used, or undefined: alone or together its patterns would empty a root. */
export function excludesEverything(patterns: readonly string[], roots: readonly string[] = ['/']): string | undefined {
  const coverage = new ExcludeCoverage(roots);
  for (const pattern of patterns) {
    const problem = coverage.add(pattern);
    if (problem) return problem;
  }
  return undefined;
}
