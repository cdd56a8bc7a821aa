// Tests are TypeScript compiled per file by esbuild to CommonJS (test/support/esbuild-transformer.js).
// A few dependencies ship ES modules only (@middy/core, cockatiel): they are compiled too, so jest's
// CommonJS loader can read them. fauxqs (ES module, native) is started in globalSetup instead.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': '<rootDir>/test/support/esbuild-transformer.js' },
  transformIgnorePatterns: ['/node_modules/(?!(@middy|cockatiel)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  testTimeout: 30000,
};
