// test/tiers.ts names real files, and a file it calls pure does not reach for the suite's services: a
// renamed or moved file would otherwise silently fall back to the integration tier, and a unit file that
// starts needing Temporal would fail only where `npm run test:unit` runs without it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { testFiles } from './tiers.js';

const sourceDir = fileURLToPath(new URL('../../test/', import.meta.url));

test('every file test/tiers.ts names exists', () => {
  const missing = Object.keys(testFiles).filter((name) => !existsSync(join(sourceDir, `${name}.test.ts`)));
  assert.deepEqual(missing, []);
});

test('no unit or replay file uses the suite services (Temporal, the pool, sshd, rigs)', () => {
  const services =
    /TIDEMARK_TEST_|testServices|helpers\/rig|helpers\/schedules|devenv\/(sshd|zfs-pool|temporal-dev|netbox)/;
  const offenders = Object.entries(testFiles)
    .filter(([, spec]) => spec.tier === 'unit' || spec.tier === 'replay')
    // This file names the very patterns it looks for.
    .filter(([name]) => name !== 'tiers')
    .filter(([name]) => services.test(readFileSync(join(sourceDir, `${name}.test.ts`), 'utf8')))
    .map(([name]) => name);
  assert.deepEqual(offenders, []);
});
