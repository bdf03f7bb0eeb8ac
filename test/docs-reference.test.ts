// The generated reference pages (docs/reference/cli.md, inventory.md, exit-codes.md) match what the code says
// now: a change to a verb, an option, an inventory field or an exit code that is not regenerated fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { format } from 'prettier';
import { referencePages } from '../devenv/reference-docs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('docs/reference is up to date with the CLI, the inventory schema and the exit-code table', async () => {
  for (const [path, text] of Object.entries(referencePages())) {
    const committed = readFileSync(`${root}/${path}`, 'utf8');
    const expected = await format(text, { parser: 'markdown', filepath: path });
    assert.ok(committed === expected, `${path} is out of date: run "npm run docs:generate" and commit the result`);
  }
});

test('the references say what the code does: a required option, a described field, a verb-specific code', () => {
  const pages = referencePages();
  assert.match(pages['docs/reference/cli.md']!, /\| `--host <name>` \| yes \| +\| host from the inventory \|/);
  assert.match(
    pages['docs/reference/inventory.md']!,
    /\| `hosts.<name>.timezone` \| string \| +\| IANA zone of the schedule/,
  );
  assert.match(pages['docs/reference/exit-codes.md']!, /## sync\n\n[^#]*\| 1 +\| a schedule could not be changed/);
});
