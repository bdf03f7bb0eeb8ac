// Reads the inventory file and turns every problem into one line naming the field and the fix.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { TidemarkError } from '../domain/errors.js';
import { inventorySchema, type Inventory } from './schema.js';

/** Where the inventory is looked for when `--config` is not given. */
export const defaultInventoryPath = '/etc/tidemark/tidemark.yaml';

/** `--config`, else `TIDEMARK_CONFIG`, else /etc/tidemark/tidemark.yaml. */
export function inventoryPath(explicit?: string): string {
  return explicit ?? process.env.TIDEMARK_CONFIG ?? defaultInventoryPath;
}

/** Loads and validates the inventory at `path`; throws a TidemarkError listing every problem. */
export async function loadInventory(path: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TidemarkError(
      'CONFIG_NOT_FOUND',
      `cannot read inventory ${path}: ${(error as Error).message}; pass --config FILE or set TIDEMARK_CONFIG`,
    );
  }
  return parseInventory(text, path);
}

/** Validates inventory YAML text; `source` names it in messages. */
export function parseInventory(text: string, source = 'inventory'): Inventory {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    const lines = document.errors.map((error) => `${source}: ${error.message.split('\n')[0]}`);
    throw new TidemarkError('CONFIG_INVALID', lines.join('\n'));
  }
  const result = inventorySchema.safeParse(document.toJS() ?? {}, { reportInput: true });
  if (!result.success) {
    throw new TidemarkError('CONFIG_INVALID', result.error.issues.map(describeIssue).join('\n'));
  }
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return `${field === '(top level)' ? '' : `${field}.`}${issue.keys.join(', ')}: unknown key; remove it or check its spelling`;
  }
  if (issue.code === 'invalid_key') return `${field}: ${issue.issues[0]?.message ?? 'invalid name'}, got ${JSON.stringify(issue.path.at(-1))}`;
  if (issue.input === undefined) return `${field}: missing; ${humanMessage(issue)}`;
  return `${field}: ${humanMessage(issue)}, got ${JSON.stringify(issue.input)}`;
}

/** zod's built-in texts ("Invalid input: expected string, received number") shortened to the expectation. */
function humanMessage(issue: z.core.$ZodIssue): string {
  return issue.message.replace(/^Invalid input: /, '').replace(/, received \w+$/, '');
}
