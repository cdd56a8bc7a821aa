/**
 * The findings sources (the `source` a finding is stored under) the stale-token sweep and the Cognigy
 * audit write, and the report reads: named once here.
 */
export const FINDING_SOURCES = {
  staleToken: 'stale-token',
  cognigyPrivilege: 'cognigy-privilege',
  cognigyApiKey: 'cognigy-api-key',
} as const;
