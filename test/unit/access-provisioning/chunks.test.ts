import { chunkSize, estimatedCalls } from '../../../functions/access-provisioning/chunks';
import { planMessages } from '../../../functions/access-provisioning/plan';
import { spId } from '../../support/sailpoint-ids';

const settings = { maxRecipients: 50, maxItems: 25, identitiesPerSearch: 250 };
const NOW = Date.parse('2030-01-01T00:00:00Z');

/** Messages i = 0..n-1: identity i gets role (i % roles). */
function messages(n: number, roles: number) {
  return planMessages(
    Array.from({ length: n }, (_, i) => ({
      messageId: `m${i}`,
      receiveCount: 1,
      sentAt: NOW + i,
      body: JSON.stringify({
        requestedFor: [spId(`id${i}`)],
        requestedItems: [{ type: 'ROLE', id: spId(`r${i % roles}`) }],
      }),
    })),
    { now: NOW, requesterId: 'me', maxUnitsPerMessage: 250 },
  );
}

describe('chunk sizing', () => {
  it('estimates one Search call per page of identities plus the coalesced requests', () => {
    expect(estimatedCalls(messages(10, 10), settings)).toBe(1 + 10);
    expect(estimatedCalls(messages(100, 2), settings)).toBe(1 + 2 * 1); // 50 recipients per role
    expect(estimatedCalls(messages(300, 1), settings)).toBe(2 + 6);
  });

  it('takes the whole batch when the budget carries it or there is no budget', () => {
    expect(chunkSize(messages(40, 40), 41, settings)).toBe(40);
    expect(chunkSize(messages(40, 40), Infinity, settings)).toBe(40);
  });

  it('takes the longest run in send order that fits, and at least one message', () => {
    expect(chunkSize(messages(40, 40), 11, settings)).toBe(10); // 1 read + 10 POSTs
    expect(chunkSize(messages(40, 40), 0, settings)).toBe(1);
    // Coalescing counts: 200 messages over 2 roles need 1 read + 4 requests.
    expect(chunkSize(messages(200, 2), 5, settings)).toBe(200);
  });
});
