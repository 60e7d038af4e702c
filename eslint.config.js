// ESLint flat config: the recommended sets of ESLint and typescript-eslint, plus a few type-aware rules that catch
// real bugs (a promise nobody awaits, an async callback where a sync one is expected, a switch that misses a case).
// Formatting is Prettier's job (.prettierrc.json); eslint-config-prettier turns off every rule that would disagree.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The TypeScript the project type-checks (tsconfig.json "include"); type-aware rules run on these. */
const typedSources = ['{src,commands,components,test,bench,scripts}/**/*.ts'];

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'data/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_name` marks a parameter, binding or caught error that is unused on purpose (a callback's shape, a rest-omit)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    files: typedSources,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // a promise that is neither awaited nor given a .catch loses its rejection (an unhandled rejection ends the process)
      '@typescript-eslint/no-floating-promises': 'error',
      // an async function passed where a void callback is expected (event handlers, forEach) drops its rejection too
      '@typescript-eslint/no-misused-promises': 'error',
      // a switch over a union without a default must name every member, so a new member is not silently ignored
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    // the fakes, tests and bench read arbitrary JSON off the wire the way a test double must: loosely
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
);
