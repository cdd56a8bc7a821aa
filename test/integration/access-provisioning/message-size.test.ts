/**
 * Issue #10, defect 3: a large valid message must not be fully submitted and then dead-lettered
 * because its outcome record outgrew DynamoDB's 400 KB item. A message over the documented cap on
 * units (MAX_UNITS_PER_MESSAGE) goes to the DLQ with that reason before anything is claimed; outcome
 * records stay within an item however many units, receives and long texts they hold; and a message
 * whose units were all submitted never ends in the DLQ, not even when its record cannot be written.
 */
import { grant, person, role, startHarness, testSeed, type Harness } from './harness';

describe('access provisioning: message size and outcome records', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('dead-letters a message over the unit cap before claiming or submitting anything', async () => {
    h = await startHarness({ sandbox: { seed: testSeed(48, 25) } });
    const identities = Array.from({ length: 48 }, (_, i) => person(i + 1));
    const items = Array.from({ length: 25 }, (_, i) => ({
      type: 'ACCESS_PROFILE' as const,
      id: role(i + 1),
    }));
    const [id] = await h.send(grant(identities, items));
    expect(await h.pollOnce()).toEqual({ received: 1, failed: 0 }); // dead-lettered at once, not retried

    expect(h.allPosts()).toBe(0);
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId)).toEqual([id]);
    expect(dead[0]!.reason).toBe(
      'invalid message: it asks for 1200 units (48 identities × 25 items), more than the 250 a message may ' +
        'carry (MAX_UNITS_PER_MESSAGE): split it into smaller messages',
    );
    expect(
      await h.store.readSlots([
        { key: 'k', identityId: person(1), itemType: 'ACCESS_PROFILE', itemId: role(1) },
      ]),
    ).toEqual(new Map());
    expect((await h.outcome(id!))?.status).toBe('invalid');
  });

  it('submits a message at the cap and records its outcome', async () => {
    h = await startHarness({ sandbox: { seed: testSeed(10, 25) } });
    const identities = Array.from({ length: 10 }, (_, i) => person(i + 1));
    const items = Array.from({ length: 25 }, (_, i) => ({ type: 'ROLE' as const, id: role(i + 1) }));
    const [id] = await h.send(grant(identities, items));
    await h.drain();

    const outcome = await h.outcome(id!);
    expect(outcome?.status).toBe('submitted');
    expect(outcome?.units).toHaveLength(250);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('deletes a fully submitted message on its last receive even when its outcome record cannot be written', async () => {
    let failOutcomeWrites = true;
    h = await startHarness({
      maxReceiveCount: 1,
      wrapDoc: (doc) => {
        doc.middlewareStack.add(
          (next) => async (args) => {
            const input = args.input as { Key?: { sk?: string } };
            if (failOutcomeWrites && input.Key?.sk === 'OUTCOME') {
              throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
                name: 'ValidationException',
              });
            }
            return next(args);
          },
          { step: 'initialize' },
        );
        return doc;
      },
    });
    await h.send(grant([person(1)], [{ type: 'ROLE', id: role(1) }]));
    expect(await h.pollOnce()).toEqual({ received: 1, failed: 0 });
    failOutcomeWrites = false;

    expect(h.acceptedPosts()).toBe(1);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.accessOf(person(1))).toContain(role(1));
  });
});
