// Test configuration: unit tests are quick; end-to-end tests spawn the real CLI and processes.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Every `mr run` of the tests keeps its job history here, not in the home directory.
    env: { MR_HOME: process.env.MR_HOME ?? join(tmpdir(), 'mr-test-home') },
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
