/**
 * The Lambda assets on emulated linux-arm64 (test/arm64): same local stack as `npm test`, run
 * alone with `npm run test:arm64` because emulation is slow.
 * @type {import('jest').Config}
 */
const { projects, ...shared } = require('./jest.config.js');
const integration = projects.find((project) => project.displayName === 'integration');

module.exports = {
  ...shared,
  ...integration,
  displayName: 'arm64',
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: ['<rootDir>/test/arm64/**/*.test.ts'],
  testTimeout: 900_000,
};
