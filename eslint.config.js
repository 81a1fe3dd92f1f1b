// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      'packages/agent/bundle/**',
      'packages/controller/dashboard/**',
      'test-artifacts/**',
      '**/node_modules/**',
      '.cache/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The controller's layers point one way: the server forwards to the jobs (through
    // jobs/job-control.ts) and the jobs never reach back into the server.
    files: ['packages/controller/src/{jobs,store,transfers,providers,install}/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/*', '**/cli/*', '**/daemon.js', '**/controller.js'],
              message: 'jobs, stores, transfers, providers and the install never import the server, the CLI or the wiring',
            },
          ],
        },
      ],
    },
  },
  {
    // The agent and the shared contract stand alone: neither knows the controller.
    files: ['packages/agent/src/**', 'packages/shared/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@plexlift/controller', '@plexlift/controller/*', '**/controller/src/**'], message: 'the agent and shared never import the controller' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Scripts and benchmarks report on the console by design.
    files: ['bench/**', 'scripts/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Vitest's asymmetric matchers (expect.stringMatching, …) and JSON.parse are typed `any`.
    files: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
