import { defineConfig } from 'vitest/config';

// The default run covers the unit and ssh suites. The lab suite needs root, network namespaces and
// real PostgreSQL hosts, so it runs only when PLINTH_LAB=1 is set (`PLINTH_LAB=1 npx vitest run test/lab`).
// Lab tests use a lab of their own, "test" unless PLINTH_LAB_NAME names another: never the user's.
const include = ['test/unit/**/*.test.ts', 'examples/**/*.test.ts', 'test/ssh/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/fuzz/**/*.test.ts'];
if (process.env.PLINTH_LAB === '1') include.push('test/lab/**/*.test.ts');
const labName = !process.env.PLINTH_LAB_NAME || process.env.PLINTH_LAB_NAME === 'default' ? 'test' : process.env.PLINTH_LAB_NAME;

export default defineConfig({
  test: {
    include,
    // Builds dist/ once, so that CLI tests can spawn `node bin/plinth.js`.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/temp-dir-per-file.ts'],
    env: { PLINTH_LAB_NAME: labName },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
