// Workflow code must be deterministic: workflows/ and the domain/ code they import use no Node modules.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = fileURLToPath(new URL('../../', import.meta.url));
const nodeModules = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const allowedPackages = /^@temporalio\/(workflow|common)$/;

for (const folder of ['workflows', 'domain']) {
  test(`${folder}/ imports no Node builtins and no side-effecting packages`, () => {
    for (const file of readdirSync(join(root, folder)).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(join(root, folder, file), 'utf8');
      for (const [, typeOnly, specifier] of source.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) {
        if (typeOnly || specifier!.startsWith('.')) continue;
        assert.ok(!nodeModules.has(specifier!), `${folder}/${file} imports Node module "${specifier}"`);
        assert.match(specifier!, allowedPackages, `${folder}/${file} imports package "${specifier}"`);
      }
    }
  });
}
