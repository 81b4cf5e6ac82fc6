// Type-checked rules catch the bugs that matter in async queue code (floating promises above all).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';
import { LAYERS, SIMULATOR_WIRING } from './eslint.layers.js';

/** A boundaries policy: files of element type `from` may import elements of the `to` types. */
const mayImport = (from, to) => ({
  from: { element: { type: from } },
  allow: { to: { element: { types: { anyOf: to } } } },
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'out/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'bin/*.js', 'bench/lib/*.mjs', 'test/support/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Layers point one way: a folder of src/ imports only the folders LAYERS lists for it.
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': [
        { type: 'simulator-wiring', pattern: SIMULATOR_WIRING },
        ...Object.keys(LAYERS).map((folder) => ({ type: folder, pattern: `src/${folder}` })),
      ],
      'boundaries/include': ['src/**/*.ts'],
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message: '{{ from.type }}/ may not import {{ to.type }}/ (layers point one way: eslint.layers.js)',
          policies: [
            ...Object.entries(LAYERS).map(([folder, allowed]) => mayImport(folder, [folder, ...allowed])),
            // The CLI's --simulate wiring is part of the CLI, and the one way into the simulator.
            mayImport('cli', ['simulator-wiring']),
            mayImport('simulator-wiring', ['simulator', 'cli', ...LAYERS.cli]),
          ],
        },
      ],
      'boundaries/no-unknown-files': 'error',
      // Functions a reader can hold in mind: split where a name explains a part.
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Asymmetric matchers (expect.any, expect.stringContaining) are typed `any` by design.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Test doubles implement async interfaces without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
);
