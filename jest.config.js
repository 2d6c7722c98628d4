/** ts-jest only transpiles here; `tsc --noEmit` is the type check (see .ci/run). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60000,
  // Most tests wait on git and node child processes, so two workers keep both cores busy (329 s -> 181 s).
  maxWorkers: 2,
  setupFiles: ['<rootDir>/test/setup-fast-check.ts', '<rootDir>/test/setup-state-dir.ts'],
};
