import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'cdk.out/',
      '.local-data/',
      'layers/',
      'coverage/',
      'bench/results/',
      'web/dist/',
      'test-output/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    // Type-aware rules: each file is checked with the tsconfig.json nearest to it (the root one,
    // web/ and test/browser/page have their own).
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Plain JavaScript (configs, the bootstrap, a bench child) is in no tsconfig: linted untyped.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Handlers and domain code log through the Powertools Logger only.
    files: ['lambdas/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // The API client is for web and mobile apps too: nothing of the backend, nothing Node-only.
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['../*', 'node:*', '@aws-sdk/*', '@aws-lambda-powertools/*'] },
      ],
    },
  },
  {
    // The post-deploy check is a client of the deployed system: the API client and the app
    // model's constants, never the handlers or the local runtime.
    files: ['scripts/verify/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/lambdas/*', '**/lambdas', '**/local/*', '**/local', '**/test/*'] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      globals: {
        module: 'writable',
        require: 'readonly',
        process: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Plain-Node scripts (the bootstrap runs before node_modules exists).
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
