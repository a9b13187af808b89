import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'contracts/build/',
      'test/golden/',
      // ajv's generated code (scripts/emit-schema.js), checked against the schema by a drift test
      'src/core/spec/network-spec-validator.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        TextEncoder: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Rule 2 of STYLE.md: core is a library; it never imports the CLI or daemon edges.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['@oclif/*', 'listr2', 'fastify', '**/cli/*', '**/commands/*', '**/daemon/*'] },
      ],
      'no-console': 'error',
    },
  },
  {
    // Rule 1: commands are shells over core.
    files: ['src/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['node:fs', 'node:fs/promises', 'fs', 'execa', 'ethers', 'listr2'] },
      ],
    },
  },
);
