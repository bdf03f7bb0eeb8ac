// What is left out of a backup, and the PlanB-style allow-list: pure, shared by the workflow (which
// merges the lists) and the rsync command builder (which turns them into filter rules on stdin).
import { ExcludeCoverage } from './rsync-pattern.js';

/**
 * Left out of full-system backups (paths relative to the system root; prefixed with the selection
 * root when it is not "/"). Reviewed against SOWN (`/var/log/journal/`, `/swap.img`) and PlanB (whose
 * allow-list never reaches these): kernel and runtime trees whose mount points' contents are made at
 * boot, temporary files, package and user caches, swap files, crash dumps.
 */
export const standardExcludes: readonly string[] = [
  '/proc/*',
  '/sys/*',
  '/dev/*',
  '/run/*',
  '/tmp/*',
  '/var/tmp/*',
  '/var/run/*',
  '/var/lock/*',
  '/var/cache/apt/archives/*.deb',
  '/var/cache/apt/*.bin',
  '/var/lib/apt/lists/*',
  '/var/cache/dnf/*',
  '/var/cache/yum/*',
  '/var/log/journal/',
  '/var/lib/systemd/coredump/*',
  '/var/crash/*',
  '/swap.img',
  '/swapfile',
  '/root/.cache/',
  '/home/*/.cache/',
];

/** Excluded at the top of every copied filesystem when the standard list applies (fsck's scratch dir). */
export const perFilesystemExcludes: readonly string[] = ['lost+found/'];

export interface ExcludeFileProblem {
  /** 1-based line number in the host's file. */
  line: number;
  text: string;
  reason: string;
}

export interface ParsedExcludeFile {
  patterns: string[];
  malformed: ExcludeFileProblem[];
}

/**
 * Reads a host's /etc/backup-exclude.conf (SOWN format: one rsync exclude pattern per line). Blank lines
 * and "#" comments are ignored; a leading "- " (rsync's exclude prefix) is accepted. Malformed lines are
 * skipped and reported, never fatal:
 *  - "+ …" and "!" (an include or a list reset would override the other lists);
 *  - relative patterns with a "/" inside, e.g. "var/cache" (rsync would match them at any depth; write
 *    "/var/cache"); plain names such as "*.tmp" or ".cache/" are fine and match at any depth;
 *  - patterns that would exclude the whole backup, judged by what they match ("*", "?*", "/[a-z]*",
 *    "*\/" …; domain/rsync-pattern.ts), alone or together with the lines accepted before them;
 *  - control characters (a "\r" would end rsync's filter line early).
 * `roots` are the transfer's source paths: a pattern emptying any of them is refused.
 */
export function parseExcludeFile(text: string, roots: readonly string[] = ['/']): ParsedExcludeFile {
  const patterns: string[] = [];
  const malformed: ExcludeFileProblem[] = [];
  const coverage = new ExcludeCoverage(roots);
  text.split('\n').forEach((raw, index) => {
    let line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const problem = (reason: string) => malformed.push({ line: index + 1, text: line.slice(0, 200), reason });
    if (line.startsWith('- ')) line = line.slice(2).trim();
    if (line.startsWith('+ ') || line === '!' || line.startsWith('! '))
      return problem('includes and list resets are not allowed in an exclude file');
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(line)) return problem('contains a control character');
    if (line === '') return problem('empty pattern');
    const inner = line.replace(/\/+$/, '');
    if (!line.startsWith('/') && inner.includes('/'))
      return problem(`relative path: rsync would match it at any depth; write "/${line}" for the path from the root`);
    const everything = coverage.add(line);
    if (everything) return problem(everything);
    patterns.push(line);
  });
  return { patterns, malformed };
}

export interface ExcludeInput {
  /** Whether the standard list applies (the backup covers the selection root: a full system). */
  standard: boolean;
  /** The selection root ("/" for a whole host); standard patterns are placed under it. */
  root: string;
  /** The rsync source paths (mount points); lost+found is excluded at the top of each. */
  sourcePaths: readonly string[];
  /** The inventory's patterns (defaults then host), verbatim. */
  inventory: readonly string[];
  /** The host's own file, already parsed. */
  host: readonly string[];
}

export interface MergedExcludes {
  /** In order: standard, inventory, host. rsync applies the first matching rule, and all are excludes. */
  patterns: string[];
  counts: { standard: number; inventory: number; host: number };
}

/** The three exclude lists in their order, deduplicated (a pattern keeps its first place). */
export function mergeExcludes(input: ExcludeInput): MergedExcludes {
  const standard = input.standard
    ? [
        ...standardExcludes.map((pattern) => underRoot(input.root, pattern)),
        ...input.sourcePaths.flatMap((path) => perFilesystemExcludes.map((pattern) => underRoot(path, `/${pattern}`))),
      ]
    : [];
  const seen = new Set<string>();
  const unique = (list: readonly string[]) => list.filter((pattern) => !seen.has(pattern) && seen.add(pattern));
  const lists = { standard: unique(standard), inventory: unique(input.inventory), host: unique(input.host) };
  return {
    patterns: [...lists.standard, ...lists.inventory, ...lists.host],
    counts: { standard: lists.standard.length, inventory: lists.inventory.length, host: lists.host.length },
  };
}

/** `pattern` (absolute, may hold wildcards) placed under the literal directory `root`. */
export function underRoot(root: string, pattern: string): string {
  const prefix = root === '/' ? '' : root.replace(/\/+$/, '');
  return `${escapeLiteral(prefix, hasWildcard(pattern))}${pattern}`;
}

/** rsync treats "\" as an escape only in patterns holding a wildcard; escape literal text accordingly. */
function escapeLiteral(text: string, patternHasWildcards: boolean): string {
  if (!patternHasWildcards && !hasWildcard(text)) return text;
  return text.replace(/[\\*?[]/g, (char) => `\\${char}`);
}

function hasWildcard(text: string): boolean {
  return /[*?[]/.test(text);
}

/**
 * PlanB-style allow-list as rsync rules: each item (relative to `root`, may hold wildcards) is included
 * with everything in it, its parent directories and the root's are included as bare directories, and
 * everything else is excluded ("- *" last). Exclude rules come before these, so they still apply inside.
 */
export function includeRules(root: string, items: readonly string[]): string[] {
  const rules: string[] = [];
  const add = (rule: string) => {
    if (!rules.includes(rule)) rules.push(rule);
  };
  const rootParts = root.split('/').filter(Boolean);
  for (let depth = 1; depth <= rootParts.length; depth++)
    add(
      `+ /${rootParts
        .slice(0, depth)
        .map((part) => escapeLiteral(part, false))
        .join('/')}/`,
    );
  for (const item of items) {
    const parts = item.split('/').filter(Boolean);
    for (let depth = 1; depth < parts.length; depth++)
      add(`+ ${underRoot(root, `/${parts.slice(0, depth).join('/')}/`)}`);
    add(`+ ${underRoot(root, `/${parts.join('/')}`)}`);
    add(`+ ${underRoot(root, `/${parts.join('/')}/***`)}`);
  }
  add('- *');
  return rules;
}

/** The rules rsync reads with --exclude-from=- : the merged excludes, then the allow-list if any. */
export function filterRules(
  excludes: readonly string[],
  include?: { root: string; items: readonly string[] },
): string[] {
  const rules = excludes.map((pattern) => `- ${pattern}`);
  if (include && include.items.length > 0) rules.push(...includeRules(include.root, include.items));
  return rules;
}
