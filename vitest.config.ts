import { defineConfig } from 'vitest/config';

// One run covers everything: pure unit tests, and (as root, in CI) the namespace
// integration tests. Test files are TypeScript under test/; never pick up dist/.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A loaded 2-core machine: do not oversubscribe; namespace tests are heavy.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
