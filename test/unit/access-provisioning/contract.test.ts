import {
  MAX_MESSAGE_BYTES,
  parseAccessRequestMessage,
} from '../../../functions/access-provisioning/contract';
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

  it('refuses 0 items; 40 roles or 30 entitlements are fine (the spec limits entitlements per request, not per message)', () => {
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
  describe('caps: each refusal names the field', () => {
    const many = (n: number, label: string) => Array.from({ length: n }, (_, i) => spId(`${label}${i}`));
    const item = (extra: object) => ({
      ...grant,
      requestedItems: [{ type: 'ROLE', id: spId('r1'), ...extra }],
    });

    it('the body: at most 256 KiB, measured before parsing', () => {
      // Valid JSON padded with white space to the size.
      const padded = (bytes: number) => JSON.stringify(grant).padEnd(bytes, ' ');
      expect(parseAccessRequestMessage(padded(MAX_MESSAGE_BYTES), NOW).ok).toBe(true);
      expect(reasonOf(padded(MAX_MESSAGE_BYTES + 1))).toBe(
        `invalid message: the body is ${MAX_MESSAGE_BYTES + 1} bytes; at most ${MAX_MESSAGE_BYTES} are accepted`,
      );
      // Multi-byte characters count as bytes.
      expect(reasonOf(`{"requestId":"${'é'.repeat(MAX_MESSAGE_BYTES / 2)}"}`)).toMatch(
        /^invalid message: the body is \d+ bytes; at most 262144 are accepted$/,
      );
    });

    it('the lists: at most 1000 identities and 1000 items', () => {
      expect(reasonOf({ ...grant, requestedFor: many(1001, 'p') })).toBe(
        'invalid message: requestedFor: must name at most 1000 identities',
      );
      const items = many(1001, 'r').map((id) => ({ type: 'ROLE', id }));
      expect(reasonOf({ ...grant, requestedItems: items })).toBe(
        'invalid message: requestedItems: must contain at most 1000 items',
      );
      // 1000 is not refused by the contract (MAX_UNITS_PER_MESSAGE then bounds identities × items).
      expect(parse({ ...grant, requestedFor: many(1000, 'p') }).ok).toBe(true);
    });

    it('requestId: at most 200 characters, no control characters', () => {
      expect(parse({ ...grant, requestId: 'r'.repeat(200) }).ok).toBe(true);
      expect(reasonOf({ ...grant, requestId: 'r'.repeat(201) })).toBe(
        'invalid message: requestId: must be at most 200 characters',
      );
      expect(reasonOf({ ...grant, requestId: 'HR-1\nforged log line' })).toBe(
        'invalid message: requestId: must not contain control characters',
      );
      // An invalid requestId is not kept as the message's reference.
      expect(parse({ ...grant, requestId: 'r'.repeat(201) })).toMatchObject({
        ok: false,
        requestId: undefined,
      });
    });

    it('comment: at most 4000 characters; line breaks and tabs are text, other control characters are not', () => {
      expect(parse(item({ comment: 'line one\nline two\twith a tab\r\n' })).ok).toBe(true);
      expect(parse(item({ comment: 'c'.repeat(4000) })).ok).toBe(true);
      expect(reasonOf(item({ comment: 'c'.repeat(4001) }))).toBe(
        'invalid message: requestedItems[0].comment: must be at most 4000 characters',
      );
      expect(reasonOf(item({ comment: 'bell\u0007' }))).toBe(
        'invalid message: requestedItems[0].comment: must not contain control characters (tab and line breaks are allowed)',
      );
    });

    it('clientMetadata: at most 20 entries, keys of 1–128 and values of at most 1000 characters, no control characters', () => {
      const entries = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
      expect(parse({ ...grant, clientMetadata: entries(20) }).ok).toBe(true);
      expect(reasonOf({ ...grant, clientMetadata: entries(21) })).toBe(
        'invalid message: clientMetadata: must have at most 20 entries (got 21)',
      );
      expect(reasonOf(item({ clientMetadata: entries(21) }))).toBe(
        'invalid message: requestedItems[0].clientMetadata: must have at most 20 entries (got 21)',
      );
      expect(reasonOf({ ...grant, clientMetadata: { ['k'.repeat(129)]: 'v' } })).toBe(
        `invalid message: clientMetadata: key "${'k'.repeat(40)}…" must be 1–128 characters (got 129)`,
      );
      expect(reasonOf({ ...grant, clientMetadata: { '': 'v' } })).toBe(
        'invalid message: clientMetadata: key "" must be 1–128 characters (got 0)',
      );
      expect(reasonOf(item({ clientMetadata: { ticket: 'v'.repeat(1001) } }))).toBe(
        'invalid message: requestedItems[0].clientMetadata: the value of "ticket" must be at most 1000 characters (got 1001)',
      );
      expect(reasonOf({ ...grant, clientMetadata: { 'tic\u0000ket': 'v', ticket: 'a\nb' } })).toBe(
        'invalid message: clientMetadata: key "tic\\u0000ket" must not contain control characters; ' +
          'clientMetadata: the value of "ticket" must not contain control characters',
      );
      expect(parse({ ...grant, clientMetadata: { ['k'.repeat(128)]: 'v'.repeat(1000) } }).ok).toBe(true);
    });
  });
});
