// `tidemark --version` prints the installed package's version and exits 0 (it used to be a usage error).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { execa } from 'execa';
import { cliPath } from './helpers/rig.js';

test('--version and -V print the package version, exit 0, and need no inventory', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.match(version, /^\d+\.\d+\.\d+/);
  for (const flag of ['--version', '-V']) {
    const result = await execa(process.execPath, [cliPath, flag], {
      reject: false,
      env: { TIDEMARK_CONFIG: '/nonexistent/tidemark.yaml' },
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout.trim(), version);
  }
});
