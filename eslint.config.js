// Lint rules that catch what the compiler does not: unawaited promises (a Temporal activity or client
// call that is never awaited fails silently), import cycles, and Node modules in workflow code (the
// workflow sandbox must stay deterministic).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const builtins = builtinModules.filter((name) => !name.startsWith('_'));
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Workflow code (and the domain code it imports) may use only these packages at run time. */
const workflowPackages = ['@temporalio/workflow', '@temporalio/common'];

export const workflowPurity = [
  'error',
  {
    patterns: [
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
    ],
  },
];

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
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
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
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': workflowPurity },
  },
);
