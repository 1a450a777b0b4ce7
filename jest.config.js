/** What every project shares. */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // Source imports name the bundled output ('./aws-sdk.js', a file of its own in each function
  // bundle); in tests that is the TypeScript module.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60_000,
  projects: [
    {
      // Seconds, no services: pure parts of the stores and services, and the architecture rules
      // (`npm run test:unit`).
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/test/unit'],
      testMatch: ['**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      // test/arm64 runs the Lambda assets under qemu: its own project (jest.arm64.config.js).
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/arm64/', '<rootDir>/test/unit/'],
      // One local stack (DynamoDB Local, S3 emulator, Redis, API emulator, pumps, CDN) per run.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      // Each test file closes the handlers' module-scope clients it loaded, so Jest exits.
      setupFilesAfterEnv: ['<rootDir>/test/support/close-clients.ts'],
    },
  ],
};
