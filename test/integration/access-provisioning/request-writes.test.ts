/**
 * Copies of one request (same requestId, same body) settled in the same batch write its
 * processed-request record once: after the first write took, a copy's conditional write is sure to
 * lose, so it is not sent (settle.ts). The dedup it serves is unchanged: a later re-send is a
 * duplicate of the message that holds the record.
 */
import { grant, person, role, startHarness, type Harness } from './harness';

describe('access provisioning: processed-request writes', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('writes the record of a request once for all its copies in one batch, and still dedups a later re-send', async () => {
    let requestPuts = 0;
    h = await startHarness({
      wrapDoc: (doc) => {
        doc.middlewareStack.add(
          (next, context) => async (args) => {
            const input = args.input as { Item?: { pk?: unknown } };
            if (/^Put(Item)?Command$/.test(context.commandName ?? '')) {
              if (String(input.Item?.pk ?? '').startsWith('REQUEST#')) requestPuts++;
            }
            return next(args);
          },
          { step: 'initialize' },
        );
        return doc;
      },
    });
    const body = grant([person(5)], [{ type: 'ROLE', id: role(6) }], { requestId: 'HR-5001' });
    const copies = await h.send(body, body, body);
    await h.drain();

    expect(requestPuts).toBe(1);
    expect(h.acceptedPosts()).toBe(1);
    const statuses = await Promise.all(copies.map(async (id) => (await h.outcome(id!))?.status));
    expect(statuses.sort()).toEqual(['duplicate', 'duplicate', 'submitted']);

    const [resent] = await h.send(body);
    await h.drain();
    const outcome = await h.outcome(resent!);
    expect(outcome?.status).toBe('duplicate');
    expect(outcome?.reason).toContain('request HR-5001 was already processed as message');
    expect(h.acceptedPosts()).toBe(1);
    expect(requestPuts).toBe(1);
    expect(await h.deadLetters()).toEqual([]);
  });
});
