import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { OPERATION_RIGHTS, missingRights } from '../../../functions/shared/sailpoint/rights';

const API_DIR = path.join(__dirname, '../../../functions/shared/sailpoint/api');

describe('OPERATION_RIGHTS', () => {
  test('every operation the API functions send has its rights recorded (a new one cannot slip past the preflight)', () => {
    const sent = new Set<string>();
    for (const file of readdirSync(API_DIR).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(path.join(API_DIR, file), 'utf8');
      for (const [, name] of source.matchAll(/operation(?:\s*=|:)\s*'([A-Za-z]+)'/g)) sent.add(name!);
    }
    expect(sent.size).toBeGreaterThan(8);
    expect([...sent].filter((name) => !(name in OPERATION_RIGHTS))).toEqual([]);
  });

  test('a right listed among the authorities counts (custom user levels); an API client needs no level for Search', () => {
    expect(
      missingRights({ identityId: 'x', authorities: ['idn:access-request-status:read'] }, [
        'listAccessRequestStatus',
      ]),
    ).toEqual([]);
    expect(
      missingRights({ authorities: ['API'], scopes: ['sp:search:read'] }, ['getSearchDocument']),
    ).toEqual([]);
    expect(missingRights({ authorities: ['API'] }, ['createAccessRequest'])).toEqual([
      {
        what: 'a user context: a personal access token (PAT), not an API client',
        operations: ['createAccessRequest'],
      },
    ]);
  });
});
