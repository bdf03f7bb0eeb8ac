// Workflow code must be deterministic: workflows/ and the domain/ code they import use no Node modules and
// no side-effecting packages. `npm run lint` enforces it on the tree; these tests show the lint rule fires.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restrictedImports } from './helpers/lint.js';

/** The purity rule's messages (the room rule's are for test/import-rooms.test.ts). */
async function purityErrors(path: string, source: string): Promise<string[]> {
  return (await restrictedImports(path, source)).filter((message) => /Workflow and domain code/.test(message));
}

for (const folder of ['workflows', 'domain']) {
  test(`${folder}/: a Node builtin, by node: prefix or bare name, is a lint error`, async () => {
    for (const specifier of ['node:fs', 'fs', 'fs/promises', 'node:test', 'child_process']) {
      const errors = await purityErrors(
        `${folder}/probe.ts`,
        `import { x } from '${specifier}';\nexport const y = x;\n`,
      );
      assert.equal(errors.length, 1, `${specifier}: ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, /no Node modules/, specifier);
    }
  });

  test(`${folder}/: a package other than @temporalio/workflow and @temporalio/common is a lint error`, async () => {
    for (const specifier of ['execa', '@temporalio/client', '@temporalio/activity', 'zod']) {
      const errors = await purityErrors(
        `${folder}/probe.ts`,
        `import { x } from '${specifier}';\nexport const y = x;\n`,
      );
      assert.equal(errors.length, 1, `${specifier}: ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, /may import only @temporalio\/workflow and @temporalio\/common/, specifier);
    }
  });

  test(`${folder}/: re-exports are checked; type-only imports, the workflow packages and relative imports are not errors`, async () => {
    assert.equal(
      (await purityErrors(`${folder}/probe.ts`, `export { readFile } from 'node:fs/promises';\n`)).length,
      1,
    );
    const allowed = [
      `import type { Stats } from 'node:fs';`,
      `import { type Client } from '@temporalio/client';`,
      `import { sleep } from '@temporalio/workflow';`,
      `import { TimeoutType } from '@temporalio/common';`,
      `import { snapshotName } from '../domain/names.js';`,
      `import { formatDuration } from './duration.js';`,
    ];
    for (const line of allowed) assert.deepEqual(await restrictedImports(`${folder}/probe.ts`, `${line}\n`), [], line);
  });
}

test('outside workflows/ and domain/ Node modules are fine (activities do the I/O)', async () => {
  assert.deepEqual(
    await restrictedImports(
      'activities/probe.ts',
      `import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n`,
    ),
    [],
  );
});
