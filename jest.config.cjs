/** Two projects: `default` (mock proofs, fast) and `proofs` (real proving, compile cache). */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json', diagnostics: false }],
  },
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'default',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['<rootDir>/test/proofs/'],
    },
    {
      ...common,
      displayName: 'proofs',
      testMatch: ['<rootDir>/test/proofs/**/*.test.ts'],
    },
  ],
};
