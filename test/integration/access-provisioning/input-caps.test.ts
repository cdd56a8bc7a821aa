/**
 * The access message contract's caps over the wire: a message over a cap goes to the DLQ with a reason
 * naming the field, before any claim or POST; its valid neighbours are submitted.
 */
import { grant, person, role, startHarness, type Harness } from './harness';

describe('access provisioning: input caps', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('dead-letters a message over a string or count cap with the field named, and submits the rest', async () => {
    h = await startHarness();
    const item = { type: 'ROLE' as const, id: role(1) };
    const entries = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    const [tooManyEntries, longValue, longRequestId, longComment, valid] = await h.send(
      grant([person(1)], [item], { clientMetadata: entries }),
      grant([person(1)], [item], {
        requestedItems: [{ ...item, clientMetadata: { ticket: 'v'.repeat(1001) } }],
      }),
      grant([person(1)], [item], { requestId: 'r'.repeat(201) }),
      grant([person(1)], [item], { requestedItems: [{ ...item, comment: 'c'.repeat(4001) }] }),
      grant([person(2)], [item], { requestId: 'HR-2', clientMetadata: { ticket: 'HR-2' } }),
    );
    await h.drain();

    const reasons = new Map((await h.deadLetters()).map((d) => [d.sourceMessageId, d.reason]));
    expect(reasons).toEqual(
      new Map([
        [tooManyEntries, 'invalid message: clientMetadata: must have at most 20 entries (got 21)'],
        [
          longValue,
          'invalid message: requestedItems[0].clientMetadata: the value of "ticket" must be at most 1000 characters (got 1001)',
        ],
        [longRequestId, 'invalid message: requestId: must be at most 200 characters'],
        [longComment, 'invalid message: requestedItems[0].comment: must be at most 4000 characters'],
      ]),
    );
    expect((await h.outcome(valid!))?.status).toBe('submitted');
    expect(h.postedBodies.map((b) => b.requestedFor)).toEqual([[person(2)]]);
  });
});
