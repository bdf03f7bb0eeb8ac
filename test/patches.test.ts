// The patch registry (workflows/patches.ts) is the whole truth about the workflow code's patches: every
// `patched(...)`/`deprecatePatch(...)` names a listed id, every listed id is still used, and the new branch of
// each has a recorded history that the replay test replays (a patch whose new code never ran in a recorded
// history could break replay of the runs it starts without any test noticing).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { patches } from '../workflows/patches.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const workflowSources = readdirSync(join(root, 'workflows'))
  // The registry's own comments show the calls.
  .filter((file) => file.endsWith('.ts') && file !== 'patches.ts')
  .map((file) => ({ file, text: readFileSync(join(root, 'workflows', file), 'utf8') }));

/** The argument of every patched(...) and deprecatePatch(...) call in workflows/, with its file. */
const calls = workflowSources.flatMap(({ file, text }) =>
  [...text.matchAll(/\b(?:patched|deprecatePatch)\(([^)]*)\)/g)].map((match) => ({ file, argument: match[1]!.trim() })),
);

test('every patched/deprecatePatch call names an id from the registry', () => {
  assert.ok(calls.length > 0, 'no patched() call found: did the workflows move?');
  const keys = new Set(Object.keys(patches));
  const strays = calls.filter(({ argument }) => {
    const key = /^patches\.(\w+)\.id$/.exec(argument)?.[1];
    return !key || !keys.has(key);
  });
  assert.deepEqual(strays, [], 'use patched(patches.<name>.id) and list the patch in workflows/patches.ts');
});

test('every registry entry is still used, and its ids are unique', () => {
  const used = new Set(calls.map(({ argument }) => /^patches\.(\w+)\.id$/.exec(argument)?.[1]));
  const unused = Object.keys(patches).filter((key) => !used.has(key));
  assert.deepEqual(unused, [], 'a patch no workflow calls any more: remove its entry');
  const ids = Object.values(patches).map((entry) => entry.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const entry of Object.values(patches)) {
    assert.ok(entry.since < entry.deprecateAfter, `${entry.id}: deprecateAfter must come after since`);
  }
});

test("every patch's new branch is in at least one recorded history", () => {
  const historyDir = join(root, 'test', 'histories');
  const recorded = new Set<string>();
  for (const file of readdirSync(historyDir).filter((name) => name.endsWith('.json'))) {
    const history = JSON.parse(readFileSync(join(historyDir, file), 'utf8')) as {
      events: {
        markerRecordedEventAttributes?: {
          markerName: string;
          details: Record<string, { payloads: { data: string }[] }>;
        };
      }[];
    };
    for (const event of history.events) {
      const marker = event.markerRecordedEventAttributes;
      if (marker?.markerName !== 'core_patch') continue;
      const data = marker.details['patch-data']?.payloads[0]?.data;
      if (data) recorded.add((JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id);
    }
  }
  const missing = Object.values(patches)
    .map((entry) => entry.id)
    .filter((id) => !recorded.has(id));
  assert.deepEqual(missing, [], 'record a history of the patched code (test/helpers/record-histories.ts)');
});
