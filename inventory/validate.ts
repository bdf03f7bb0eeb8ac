// Validation of inventory data however it arrived (the YAML file, NetBox's custom fields): control
// characters anywhere, then the schema; every problem one printable line naming the field.
import type { z } from 'zod';
import { controlCharacter, firstControlCharacter } from './field-rules.js';
import { inventorySchema, type Inventory } from './schema.js';

export interface InventoryProblem {
  /** Where, e.g. ["hosts", "vpn", "paths", 0]; empty for the top level. */
  path: (string | number)[];
  /** What is wrong and what is expected, without the field name. */
  message: string;
}

export type Validated = { ok: true; inventory: Inventory } | { ok: false; problems: InventoryProblem[] };

/** Problems printed at most (a broken 50,000-host file should not print 50,000 lines). */
export const maxProblemLines = 50;

export function validateInventory(raw: unknown): Validated {
  const problems = controlCharacterProblems(raw);
  const result = inventorySchema.safeParse(raw, { reportInput: true });
  if (result.success && problems.length === 0) return { ok: true, inventory: result.data };
  // A field already reported for a control character is not reported again by the schema.
  const reported = new Set(problems.map((problem) => fieldName(problem.path)));
  for (const issue of result.success ? [] : result.error.issues) {
    const path = issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part));
    if (![...prefixes(path)].some((prefix) => reported.has(prefix))) problems.push(...describeIssue(issue, path));
  }
  return { ok: false, problems };
}

/** One line per problem, at most maxProblemLines of them. */
export function problemLines(
  problems: readonly InventoryProblem[],
  field: (path: InventoryProblem['path']) => string = fieldName,
): string[] {
  const lines = problems.slice(0, maxProblemLines).map((problem) => `${field(problem.path)}: ${problem.message}`);
  if (problems.length > maxProblemLines) lines.push(`... and ${problems.length - maxProblemLines} more problems`);
  return lines;
}

/** "hosts.vpn.paths.0"; a part that is not plain printable text is quoted with escapes. */
export function fieldName(path: InventoryProblem['path']): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part) => (typeof part === 'number' || /^[\x20-\x7e]+$/.test(part) ? String(part) : printable(part)))
    .join('.');
}

/** JSON text of a value with every control character escaped, cut to 200 characters. */
export function printable(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  const escaped = text.replace(
    new RegExp(controlCharacter.source, 'gu'),
    (char) => `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
  return escaped.length > 200 ? `${escaped.slice(0, 200)}...` : escaped;
}

function* prefixes(path: InventoryProblem['path']): Generator<string> {
  for (let length = 1; length <= path.length; length++) yield fieldName(path.slice(0, length));
}

/** Every string and key holding a control character, and "__proto__" keys, walked without recursion (deep YAML nests). */
function controlCharacterProblems(raw: unknown): InventoryProblem[] {
  const problems: InventoryProblem[] = [];
  const stack: Array<{ value: unknown; path: InventoryProblem['path'] }> = [{ value: raw, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      const found = firstControlCharacter(value);
      if (found)
        problems.push({
          path,
          message: `contains the control character ${found}; remove it (got ${printable(value)})`,
        });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, path: [...path, index] }));
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        const found = firstControlCharacter(key);
        if (found)
          problems.push({
            path: [...path, key],
            message: `this key contains the control character ${found}; remove it`,
          });
        // zod drops a "__proto__" record key without a word; refuse it here instead.
        else if (key === '__proto__')
          problems.push({ path: [...path, key], message: '"__proto__" is not a valid name or key; remove it' });
        else stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
      }
    }
  }
  return problems.reverse();
}

function describeIssue(issue: z.core.$ZodIssue, path: InventoryProblem['path']): InventoryProblem[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown key; remove it or check its spelling' }));
  if (issue.code === 'invalid_key')
    return [{ path, message: `${issue.issues[0]?.message ?? 'invalid name'}, got ${printable(path.at(-1))}` }];
  if (issue.input === undefined) return [{ path, message: `missing; ${humanMessage(issue)}` }];
  // Checks across fields say what they found; the whole mapping they looked at is no help.
  if (issue.code === 'custom' && typeof issue.input === 'object' && issue.input !== null)
    return [{ path, message: issue.message }];
  return [{ path, message: `${humanMessage(issue)}, got ${printable(issue.input)}` }];
}

/** zod's built-in texts ("Invalid input: expected string, received number") shortened to the expectation. */
function humanMessage(issue: z.core.$ZodIssue): string {
  return issue.message.replace(/^Invalid input: /, '').replace(/, received \w+$/, '');
}
