// Workflow code must be deterministic: workflows/ and the domain/ code they import use no Node modules and
// no side-effecting packages. `npm run lint` enforces it on the tree; these tests show the lint rule fires.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = fileURLToPath(new URL('../../', import.meta.url));
// The repository's own eslint.config.js; type information is off because the probe files do not exist.
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

/** Messages of the purity rule for `source` as if it were the file `path` (relative to the repository). */
async function purityErrors(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(root, path) });
  assert.ok(result, `ESLint linted ${path}`);
  const fatal = result.messages.filter((message) => message.fatal);
  assert.deepEqual(fatal, [], `${path} parses`);
  return result.messages.filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports').map((message) => message.message);
}

for (const folder of ['workflows', 'domain']) {
  test(`${folder}/: a Node builtin, by node: prefix or bare name, is a lint error`, async () => {
    for (const specifier of ['node:fs', 'fs', 'fs/promises', 'node:test', 'child_process']) {
      const errors = await purityErrors(`${folder}/probe.ts`, `import { x } from '${specifier}';\nexport const y = x;\n`);
      assert.equal(errors.length, 1, `${specifier}: ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, /no Node modules/, specifier);
    }
  });

  test(`${folder}/: a package other than @temporalio/workflow and @temporalio/common is a lint error`, async () => {
    for (const specifier of ['execa', '@temporalio/client', '@temporalio/activity', 'zod']) {
      const errors = await purityErrors(`${folder}/probe.ts`, `import { x } from '${specifier}';\nexport const y = x;\n`);
      assert.equal(errors.length, 1, `${specifier}: ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, /may import only @temporalio\/workflow and @temporalio\/common/, specifier);
    }
  });

  test(`${folder}/: re-exports are checked; type-only imports, the workflow packages and relative imports are not errors`, async () => {
    assert.equal((await purityErrors(`${folder}/probe.ts`, `export { readFile } from 'node:fs/promises';\n`)).length, 1);
    const allowed = [
      `import type { Stats } from 'node:fs';`,
      `import { type Client } from '@temporalio/client';`,
      `import { sleep } from '@temporalio/workflow';`,
      `import { TimeoutType } from '@temporalio/common';`,
      `import { snapshotName } from '../domain/names.js';`,
      `import { formatDuration } from './duration.js';`,
    ];
    for (const line of allowed) assert.deepEqual(await purityErrors(`${folder}/probe.ts`, `${line}\n`), [], line);
  });
}

test('outside workflows/ and domain/ Node modules are fine (activities do the I/O)', async () => {
  assert.deepEqual(await purityErrors('activities/probe.ts', `import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n`), []);
});
