// Reads the inventory file and turns every problem into one line naming the field and the fix.
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { TidemarkError } from '../domain/errors.js';
import { deprecationWarnings } from './deprecations.js';
import type { Inventory } from './schema.js';
import { printable, problemLines, validateInventory } from './validate.js';

/** Where the inventory is looked for when `--config` is not given. */
export const defaultInventoryPath = '/etc/tidemark/tidemark.yaml';

/** `--config`, else `TIDEMARK_CONFIG`, else /etc/tidemark/tidemark.yaml. */
export function inventoryPath(explicit?: string): string {
  return explicit ?? process.env.TIDEMARK_CONFIG ?? defaultInventoryPath;
}

/** Loads and validates the inventory at `path`; throws a TidemarkError listing every problem. Deprecated
 * fields are warned about on stderr unless `warn` is false (`config check` prints them itself). */
export async function loadInventory(path: string, { warn = true } = {}): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TidemarkError(
      'CONFIG_NOT_FOUND',
      `cannot read inventory ${path}: ${(error as Error).message}; pass --config FILE or set TIDEMARK_CONFIG`,
    );
  }
  const inventory = parseInventory(text, path);
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

/** Validates inventory YAML text; `source` names it in messages. */
export function parseInventory(text: string, source = 'inventory'): Inventory {
  const result = validateInventory(readYaml(text, source));
  if (!result.ok) throw new TidemarkError('CONFIG_INVALID', problemLines(result.problems).join('\n'));
  return result.inventory;
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
