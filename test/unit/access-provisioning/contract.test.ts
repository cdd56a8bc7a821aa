import { parseAccessRequestMessage } from '../../../functions/access-provisioning/contract';
import { spId } from '../../support/sailpoint-ids';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const parse = (body: unknown) =>
  parseAccessRequestMessage(typeof body === 'string' ? body : JSON.stringify(body), NOW);
const reasonOf = (body: unknown) => {
  const result = parse(body);
  if (result.ok) throw new Error('expected the message to be invalid');
  return result.reason;
};

const grant = {
  requestedFor: [spId('id1')],
  requestedItems: [{ type: 'ROLE', id: spId('role1') }],
};

describe('access request message contract', () => {
  it('accepts the API shape, defaults requestType to GRANT_ACCESS and keeps per-item fields', () => {
    const result = parse({
      requestId: 'req-1',
      requestedFor: [spId('id1'), spId('id2')],
      requestedItems: [
        {
          type: 'ACCESS_PROFILE',
          id: spId('ap1'),
          comment: 'needed',
          removeDate: '2031-01-01T00:00:00Z',
          clientMetadata: { ticket: 'T-1' },
        },
      ],
      clientMetadata: { source: 'hr' },
    });
    expect(result).toEqual({
      ok: true,
      message: {
        requestId: 'req-1',
        requestedFor: [spId('id1'), spId('id2')],
        requestType: 'GRANT_ACCESS',
        requestedItems: [
          {
            type: 'ACCESS_PROFILE',
            id: spId('ap1'),
            comment: 'needed',
            removeDate: '2031-01-01T00:00:00Z',
            clientMetadata: { ticket: 'T-1' },
          },
        ],
        clientMetadata: { source: 'hr' },
      },
    });
    expect(parse({ ...grant, requestType: null })).toMatchObject({
      ok: true,
      message: { requestType: 'GRANT_ACCESS' },
    });
  });

  it('refuses a body that is not JSON, naming what it starts with', () => {
    expect(reasonOf('not json')).toBe('invalid message: the body is not JSON (starts with "not json")');
    expect(reasonOf('')).toBe('invalid message: the body is not JSON (empty body)');
  });

  it('refuses 0 items, and limits nothing else per message (the current spec limits entitlements per request)', () => {
    expect(reasonOf({ ...grant, requestedItems: [] })).toBe(
      'invalid message: requestedItems: must contain at least 1 item',
    );
    const roles = Array.from({ length: 40 }, (_, i) => ({ type: 'ROLE', id: spId(`r${i}`) }));
    expect(parseAccessRequestMessage(JSON.stringify({ ...grant, requestedItems: roles }), NOW).ok).toBe(true);
    // 30 entitlements for one identity are split into requests of 25 + 5 (coalesce.ts), as 11
    // recipients of an entitlement are split into 10 + 1.
    const entitlements = Array.from({ length: 30 }, (_, i) => ({ type: 'ENTITLEMENT', id: spId(`e${i}`) }));
    expect(
      parseAccessRequestMessage(JSON.stringify({ ...grant, requestedItems: entitlements }), NOW).ok,
    ).toBe(true);
  });

  it('refuses a REVOKE for more than one identity and a REVOKE item without a comment', () => {
    const revoke = {
      requestType: 'REVOKE_ACCESS',
      requestedFor: [spId('id1'), spId('id2')],
      requestedItems: [
        { type: 'ROLE', id: spId('r1'), comment: 'leaver' },
        { type: 'ROLE', id: spId('r2') },
      ],
    };
    expect(reasonOf(revoke)).toBe(
      'invalid message: requestedFor: REVOKE_ACCESS must name exactly one identity (got 2); ' +
        'requestedItems[1].comment: required for REVOKE_ACCESS',
    );
  });

  it('refuses a removeDate in the past or not in UTC; accepts one on an entitlement (current spec)', () => {
    expect(
      reasonOf({
        ...grant,
        requestedItems: [{ type: 'ROLE', id: spId('r1'), removeDate: '2029-12-31T23:59:59Z' }],
      }),
    ).toBe('invalid message: requestedItems[0].removeDate: must be in the future (got 2029-12-31T23:59:59Z)');
    expect(
      parseAccessRequestMessage(
        JSON.stringify({
          ...grant,
          requestedItems: [{ type: 'ENTITLEMENT', id: spId('e1'), removeDate: '2031-01-01T00:00:00Z' }],
        }),
        NOW,
      ).ok,
    ).toBe(true);
    expect(
      reasonOf({
        ...grant,
        requestedItems: [{ type: 'ROLE', id: spId('r1'), removeDate: '2031-01-01T00:00:00+02:00' }],
      }),
    ).toBe(
      'invalid message: requestedItems[0].removeDate: must be an ISO-8601 UTC date-time such as 2030-01-31T00:00:00Z',
    );
  });

  it('refuses unknown item types, unsupported fields, repeated identities or items, reserved metadata keys', () => {
    expect(reasonOf({ ...grant, requestedItems: [{ type: 'APP', id: spId('a') }] })).toBe(
      'invalid message: requestedItems[0].type: must be one of ACCESS_PROFILE, ROLE, ENTITLEMENT',
    );
    expect(
      reasonOf({
        ...grant,
        requestedItems: [{ type: 'ROLE', id: spId('r'), startDate: '2031-01-01T00:00:00Z' }],
      }),
    ).toBe('invalid message: requestedItems[0]: unsupported field "startDate"');
    expect(reasonOf({ ...grant, requestType: 'MODIFY_ACCESS' })).toBe(
      'invalid message: requestType: must be GRANT_ACCESS or REVOKE_ACCESS',
    );
    expect(reasonOf({ ...grant, requestedFor: [spId('a'), spId('a')] })).toBe(
      `invalid message: requestedFor[1]: identity ${spId('a')} is listed twice`,
    );
    expect(
      reasonOf({
        ...grant,
        requestedItems: [
          { type: 'ROLE', id: spId('r') },
          { type: 'ROLE', id: spId('r') },
        ],
      }),
    ).toBe(`invalid message: requestedItems[1]: ROLE ${spId('r')} is listed twice`);
    expect(reasonOf({ ...grant, clientMetadata: { igaAutopilotItem: 'x' } })).toBe(
      'invalid message: clientMetadata: keys starting with "igaAutopilot" are reserved for this workflow',
    );
    expect(reasonOf({ ...grant, requestedFor: ['has space'] })).toBe(
      'invalid message: requestedFor[0]: must be a SailPoint id: 32 hexadecimal characters, e.g. ' +
        '2c9180835d2e5168015d32f890ca1581 (got "has space")',
    );
  });

  it('takes SailPoint ids only: a dot segment, a readable name or a short hex id is refused; upper case is lowered', () => {
    for (const id of ['..', '.', 'role1', '2c9180835d2e5168015d32f890ca158', `${spId('x')}/..`]) {
      expect(reasonOf({ ...grant, requestedItems: [{ type: 'ROLE', id }] })).toMatch(
        /^invalid message: requestedItems\[0\]\.id: must be a SailPoint id: 32 hexadecimal characters/,
      );
      expect(reasonOf({ ...grant, requestedFor: [id] })).toMatch(
        /^invalid message: requestedFor\[0\]: must be a SailPoint id/,
      );
    }
    expect(parse({ ...grant, requestedFor: ['2C9180835D2E5168015D32F890CA1581'] })).toMatchObject({
      ok: true,
      message: { requestedFor: ['2c9180835d2e5168015d32f890ca1581'] },
    });
  });

  it('keeps the requestId of an invalid message so its outcome can be found by it', () => {
    expect(parse({ requestId: 'req-9', requestedFor: [] })).toEqual({
      ok: false,
      requestId: 'req-9',
      reason: expect.stringContaining('requestedFor: must name at least one identity'),
    });
  });
});
