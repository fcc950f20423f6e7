import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Both cores: most tests wait on child processes and sockets, so two files at a time
    // halve the wall time (tests use their own temp dirs, databases and free ports).
    maxWorkers: 2,
  },
});
