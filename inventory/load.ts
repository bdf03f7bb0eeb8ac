// Reads the inventory file and turns every problem into one line naming the field and the fix.
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { TidemarkError } from '../domain/errors.js';
import { deprecationWarnings } from './deprecations.js';
import type { Inventory } from './schema.js';
import { printable, problemLines, validateInventory, type InventoryProblem } from './validate.js';

/** Loads and validates the inventory at `path`; throws a TidemarkError listing every problem. Deprecated
 * fields are warned about on stderr unless `warn` is false (`config check` prints them itself). */
export async function loadInventory(path: string, { warn = true } = {}): Promise<Inventory> {
  const inventory = parseInventory(await readInventoryText(path), path);
  if (warn) warnOnce(deprecationWarnings(inventory));
  return inventory;
}

/** Warnings already printed by this process: a worker loads the inventory for every run. */
const warned = new Set<string>();
let warningSink = (warning: string) => console.error(`tidemark: WARNING: ${warning}`);

/** Where inventory warnings go (default stderr); the worker sends them to its JSON log instead. */
export function sendInventoryWarningsTo(sink: (warning: string) => void): void {
  warningSink = sink;
}

function warnOnce(warnings: string[]): void {
  for (const warning of warnings) {
    if (warned.has(warning)) continue;
    warned.add(warning);
    warningSink(warning);
  }
}

/** The file's text; CONFIG_NOT_FOUND naming the way to point at another file. */
async function readInventoryText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new TidemarkError(
      'CONFIG_NOT_FOUND',
      `cannot read inventory ${path}: ${(error as Error).message}; pass --config FILE or set TIDEMARK_CONFIG`,
    );
  }
}

/** Validates inventory YAML text; `source` names it in messages. */
export function parseInventory(text: string, source = 'inventory'): Inventory {
  const result = validateInventory(readYaml(text, source));
  if (!result.ok) throw new TidemarkError('CONFIG_INVALID', problemLines(result.problems).join('\n'));
  return result.inventory;
}

/** An inventory whose broken host entries were left out: each named with its problem lines. */
export type IsolatedInventory = Inventory & {
  /** Host names (lower-case, as hosts are looked up) whose entries do not validate, each with its problems ("hosts.web1.port: ..."). */
  readonly invalidHosts?: Readonly<Record<string, string[]>>;
};

/**
 * Like loadInventory, but a problem confined to one host's entry leaves out that host only: the rest of the
 * inventory is returned, the host named in `invalidHosts` (its runs and verbs fail with those lines). A
 * problem anywhere else (servers, defaults, YAML syntax) still throws.
 */
export async function loadInventoryIsolatingHosts(path: string): Promise<IsolatedInventory> {
  return parseInventoryIsolatingHosts(await readInventoryText(path), path);
}

/** parseInventory, leaving out host entries whose problems are their own (see loadInventoryIsolatingHosts). */
export function parseInventoryIsolatingHosts(text: string, source = 'inventory'): IsolatedInventory {
  const raw = readYaml(text, source);
  const hosts = (raw as { hosts?: unknown }).hosts;
  const invalidHosts: Record<string, string[]> = {};
  let kept = typeof hosts === 'object' && hosts !== null ? (hosts as Record<string, unknown>) : undefined;
  // Checks across hosts (an unknown group, ...) run only once every field validates: leaving out the hosts
  // with broken fields may uncover another host's problem, itself confined to that host.
  for (let round = 0; ; round++) {
    const result = validateInventory(kept === hosts ? raw : { ...(raw as object), hosts: kept });
    if (result.ok) return round === 0 ? result.inventory : { ...result.inventory, invalidHosts };
    const byHost = problemsByHost(result.problems);
    if (!byHost || !kept || round >= maxIsolationRounds) {
      const lines = [...Object.values(invalidHosts).flat(), ...problemLines(result.problems)];
      throw new TidemarkError('CONFIG_INVALID', lines.join('\n'));
    }
    for (const [name, problems] of byHost) invalidHosts[name.toLowerCase()] = problemLines(problems);
    kept = Object.fromEntries(Object.entries(kept).filter(([name]) => !byHost.has(name)));
  }
}

/** Rounds of leaving out broken hosts: field problems, then checks across fields (any later one repeats). */
const maxIsolationRounds = 3;

/** The problems grouped by the host entry they lie in; undefined when any lies outside `hosts.<name>`. */
function problemsByHost(problems: readonly InventoryProblem[]): Map<string, InventoryProblem[]> | undefined {
  const byHost = new Map<string, InventoryProblem[]>();
  for (const problem of problems) {
    const [top, host] = problem.path;
    if (top !== 'hosts' || typeof host !== 'string') return undefined;
    byHost.set(host, [...(byHost.get(host) ?? []), problem]);
  }
  return byHost;
}

/** One WARNING line per host left out, naming the field and the fix. */
export function invalidHostWarnings(inventory: IsolatedInventory): string[] {
  return Object.entries(inventory.invalidHosts ?? {}).map(
    ([host, problems]) =>
      `inventory: host ${printable(host)} left out (its runs fail until its entry is fixed): ${problems.join('; ')}`,
  );
}

/** Aliases expanded at most (each may stand for a large subtree; the yaml package's own default). */
const maxAliasCount = 100;

/** The YAML as plain data, or one line naming the file and the first problem. */
function readYaml(text: string, source: string): unknown {
  const fail = (problem: string): never => {
    throw new TidemarkError('CONFIG_INVALID', `${source}: ${problem}`);
  };
  const lineCounter = new LineCounter();
  let document: Document.Parsed;
  try {
    // Duplicate keys are found below in one pass: the parser's own check is quadratic in a map's size.
    document = parseDocument(text, { uniqueKeys: false, lineCounter });
  } catch (error) {
    return fail(`cannot parse the YAML: ${firstLine(error)}`);
  }
  if (document.errors.length > 0) {
    const more = document.errors.length > 1 ? ` (and ${document.errors.length - 1} more YAML errors)` : '';
    fail(`${firstLine(document.errors[0])}${more}`);
  }
  const duplicate = firstDuplicateKey(document);
  if (duplicate)
    fail(
      `Map keys must be unique: ${printable(duplicate.key)} appears again at line ${lineCounter.linePos(duplicate.offset).line}`,
    );
  try {
    return document.toJS({ maxAliasCount }) ?? {};
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message))
      fail(`too many YAML aliases (more than ${maxAliasCount} expansions, as in an alias bomb); write the values out`);
    return fail(`cannot read the YAML: ${firstLine(error)}`);
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!;
}

/** The first key repeated within one mapping (keys compared as the text they become). */
function firstDuplicateKey(document: Document.Parsed): { key: string; offset: number } | undefined {
  let found: { key: string; offset: number } | undefined;
  visit(document, {
    Map(_, map) {
      if (!isMap(map)) return undefined;
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(key)) {
          found = { key, offset: (pair.key as { range?: [number] } | null)?.range?.[0] ?? 0 };
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return found;
}
