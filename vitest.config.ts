import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources in tests (the `source` condition of
// each package's exports), so tests never run a stale build.
const conditions = ['source'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Workspace packages are symlinked into node_modules; inline them so Vite resolves them.
    server: { deps: { inline: [/@plexlift\//, /packages\/(shared|agent|controller)\//] } },
    // Real SQLite files of up to tens of MB and child processes on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test/utils/summary-reporter.ts'],
  },
});
