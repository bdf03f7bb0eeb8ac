// Rooms: each top-level folder imports only from the folders eslint.config.js allows it, and those
// allowances form no cycle. `npm run lint` enforces it on the tree; these tests show the rule fires and
// read the folder graph back from the rule itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restrictedImports } from './helpers/lint.js';

const folders = [
  'domain',
  'inventory',
  'pool',
  'notify',
  'schedule',
  'workflows',
  'activities',
  'worker',
  'fleet',
  'web',
  'client',
];

/** True when a file in `from` may import `specifier` (a value import, or with `type` a type-only one). */
async function allowed(from: string, specifier: string, type = false): Promise<boolean> {
  const source = type
    ? `import type { X } from '${specifier}';\nexport type Y = X;\n`
    : `import { x } from '${specifier}';\nexport const y = x;\n`;
  return (await restrictedImports(`${from}/probe.ts`, source)).length === 0;
}

test('client/ and worker/ import nothing from activities/, except the worker registering activities/index.js', async () => {
  for (const specifier of [
    '../activities/hold.js',
    '../activities/prune.js',
    '../activities/plan.js',
    '../activities/ssh-run.js',
  ]) {
    assert.equal(await allowed('client', specifier), false, `client → ${specifier}`);
    assert.equal(await allowed('client', specifier, true), false, `client → type ${specifier}`);
    assert.equal(await allowed('worker', specifier), false, `worker → ${specifier}`);
  }
  const [message] = await restrictedImports(
    'client/probe.ts',
    `import { releaseSnapshot } from '../activities/hold.js';\n`,
  );
  assert.match(
    message ?? '',
    /client\/ imports nothing from activities\/.*move ZFS code to pool\/ and pure helpers to domain\//,
  );
  assert.equal(await allowed('client', '../activities/index.js'), false);
  assert.equal(await allowed('worker', '../activities/index.js'), true);
  assert.equal(await allowed('worker', '../pool/zfs.js'), true);
  // Verbs talk to workflows by name (domain/names.ts), never by importing workflow code.
  assert.equal(await allowed('client', '../workflows/restore-host.js'), false);
  assert.equal(await allowed('web', '../workflows/backup-host.js'), false);
  assert.equal(await allowed('inventory', '../temporal/settings.js'), false);
});

test('activities/ import nothing from client/ or worker/; inventory/ nothing from notify/', async () => {
  assert.equal(await allowed('activities', '../client/temporal.js'), false);
  assert.equal(await allowed('activities', '../worker/log.js'), false);
  assert.equal(await allowed('activities', '../temporal/connection.js'), true);
  assert.equal(await allowed('inventory', '../notify/schema.js'), false);
  assert.equal(await allowed('notify', '../inventory/notify-schema.js'), true);
  const [message] = await restrictedImports(
    'inventory/probe.ts',
    `import { notifyListSchema } from '../notify/schema.js';\n`,
  );
  assert.match(message ?? '', /inventory\/ imports only from domain\/, never notify\/.*move the shared piece down/);
});

test('workflows/ name activity types only; a value import of activities/ or inventory/ is an error', async () => {
  assert.equal(await allowed('workflows', '../activities/index.js', true), true);
  assert.equal(await allowed('workflows', '../activities/index.js'), false);
  assert.equal(await allowed('workflows', '../inventory/schema.js'), false);
  assert.equal(await allowed('workflows', '../domain/names.js'), true);
});

test('shipped folders import nothing from devenv/, test/ or bench/ (the package leaves them out)', async () => {
  for (const folder of folders)
    for (const other of ['devenv', 'test', 'bench'])
      assert.equal(await allowed(folder, `../${other}/process.js`), false, `${folder} → ${other}`);
  assert.equal(await allowed('devenv', '../worker/free-port.js'), true);
});

test('the folder graph the rule allows has no cycle', async () => {
  const edges = new Map<string, string[]>();
  for (const from of folders) {
    const targets: string[] = [];
    for (const to of folders.filter((folder) => folder !== from)) {
      // Any file of `to` counts, also the entry points a room may be limited to.
      const specifiers = ['probe.js', 'index.js', 'run-worker.js'].map((file) => `../${to}/${file}`);
      for (const specifier of specifiers) {
        if ((await allowed(from, specifier)) || (await allowed(from, specifier, true))) {
          targets.push(to);
          break;
        }
      }
    }
    edges.set(from, targets);
  }
  // Depth-first search; a folder met again while still on the path closes a cycle.
  const done = new Set<string>();
  const visit = (folder: string, path: string[]): void => {
    if (done.has(folder)) return;
    assert.ok(!path.includes(folder), `folder cycle: ${[...path.slice(path.indexOf(folder)), folder].join(' → ')}`);
    for (const next of edges.get(folder) ?? []) visit(next, [...path, folder]);
    done.add(folder);
  };
  for (const folder of folders) visit(folder, []);
  // The graph is not empty by accident: the data path's edges are there.
  assert.deepEqual(edges.get('client')?.includes('worker'), true);
  assert.deepEqual(edges.get('activities')?.includes('pool'), true);
  assert.deepEqual(edges.get('domain'), []);
});
