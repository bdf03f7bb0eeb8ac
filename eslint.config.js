// Lint rules that catch what the compiler does not: unawaited promises (a Temporal activity or client
// call that is never awaited fails silently), import cycles between files and between folders (rooms),
// and Node modules in workflow code (the workflow sandbox must stay deterministic).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const builtins = builtinModules.filter((name) => !name.startsWith('_'));
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Workflow code (and the domain code it imports) may use only these packages at run time. */
const workflowPackages = ['@temporalio/workflow', '@temporalio/common'];

/** Workflow and domain code: no Node builtins, no packages but the workflow SDK's (type-only imports are fine). */
const purityPatterns = [
  {
    regex: `^(node:.*|(${builtins.map(escape).join('|')})(/.*)?)$`,
    allowTypeImports: true,
    message:
      'Workflow and domain code runs in the deterministic workflow sandbox: no Node modules. Move the I/O into an activity.',
  },
  {
    regex: `^(?!\\.{1,2}/|node:|(${[...builtins, ...workflowPackages].map(escape).join('|')})(/.*)?$)`,
    allowTypeImports: true,
    message: `Workflow and domain code may import only ${workflowPackages.join(' and ')} (type-only imports are fine): other packages may do I/O or keep state.`,
  },
];

/**
 * Rooms: the folders each folder may import from. They form no cycle: a folder imports only from folders
 * below it. Folders not listed here (test/, bench/, devenv/) may import anything.
 */
export const rooms = {
  domain: [],
  inventory: ['domain'],
  pool: ['domain'],
  temporal: ['domain', 'inventory'],
  subprocess: ['domain', 'inventory'],
  notify: ['domain', 'inventory'],
  schedule: ['domain', 'inventory'],
  activities: ['domain', 'inventory', 'pool', 'notify', 'schedule', 'temporal', 'subprocess'],
  workflows: ['domain'],
  worker: ['domain', 'inventory', 'pool', 'notify', 'activities', 'temporal', 'subprocess'],
  fleet: ['domain', 'inventory', 'schedule', 'temporal'],
  web: ['domain', 'inventory', 'pool', 'notify', 'schedule', 'worker', 'fleet', 'temporal'],
  client: ['domain', 'inventory', 'pool', 'notify', 'schedule', 'worker', 'fleet', 'web', 'temporal', 'subprocess'],
};

/** The one file of an allowed folder a room may import: the entry point, not the internals. */
const onlyThrough = {
  worker: { activities: 'index.js' },
  client: { worker: 'run-worker.js' },
  web: { worker: 'run-worker.js' },
};

function roomPatterns(folder) {
  const patterns = [
    {
      regex: '^\\.\\./(devenv|test|bench)/',
      allowTypeImports: false,
      message: `${folder}/ ships in the package (package.json "files"); devenv/, test/ and bench/ do not: move what it needs into a shipped folder.`,
    },
  ];
  for (const other of Object.keys(rooms)) {
    if (other === folder) continue;
    const entry = onlyThrough[folder]?.[other];
    if (rooms[folder].includes(other) && !entry) continue;
    const isActivities = other === 'activities' && (folder === 'client' || folder === 'worker');
    patterns.push({
      regex: entry ? `^\\.\\./${other}/(?!${escape(entry)}$)` : `^\\.\\./${other}/`,
      // Workflow code names its activities' types (proxyActivities<Activities>); types are erased.
      allowTypeImports: folder === 'workflows' && other === 'activities',
      message: entry
        ? `${folder}/ imports ${other}/ only through ${other}/${entry}${isActivities ? ' (the activities it registers)' : ''}: ` +
          'move what it needs from elsewhere in that folder down into a folder both may import (rooms in eslint.config.js).'
        : isActivities
          ? `${folder}/ imports nothing from activities/ (activity code runs inside Temporal on the backup server): ` +
            'move ZFS code to pool/ and pure helpers to domain/ (rooms in eslint.config.js).'
          : `${folder}/ imports only from ${rooms[folder].map((name) => `${name}/`).join(', ') || 'itself'}, never ${other}/ ` +
            '(folders import only from folders below them, so there is no cycle): move the shared piece down into a folder both may import (rooms in eslint.config.js).',
    });
  }
  return patterns;
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/', 'results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      // Specifiers end in .js (NodeNext); the TypeScript resolver maps them to the .ts sources.
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs the tests it registers; their promises are its to await.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // Tests read parsed YAML and JSON of whatever shape the program under test wrote.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  ...Object.keys(rooms).map((folder) => ({
    files: [`${folder}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [...(folder === 'workflows' || folder === 'domain' ? purityPatterns : []), ...roomPatterns(folder)],
        },
      ],
    },
  })),
);
