// ESLint's Node API on in-memory sources, with the repository's own eslint.config.js: tests that show a
// lint rule fires without leaving a probe file in the tree.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// Type information is off: the probe files do not exist, so no TypeScript program holds them.
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

/** The restricted-import messages (purity and rooms) for `source` as if it were the file `path` of the repository. */
export async function restrictedImports(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(root, path) });
  assert.ok(result, `ESLint linted ${path}`);
  assert.deepEqual(
    result.messages.filter((message) => message.fatal),
    [],
    `${path} parses`,
  );
  return result.messages
    .filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((message) => message.message);
}
